/**
 * Spring Boot auto-configuration for kad: a started {@link dev.kad.api.KadNode} bean on the TCP
 * transport from {@code kad.*} properties, bootstrapped in the background, closed with the context,
 * with a health indicator and Micrometer metrics when those are on the class path.
 */
package dev.kad.spring;
