/**
 * Iterative lookups (Kademlia §2.3): {@link dev.kad.reactor.lookup.LookupState}, the closest-set as
 * plain Java that decides whom to ask next and when the lookup is done, and {@link
 * dev.kad.reactor.lookup.Lookup}, the Reactor pipeline that asks alpha contacts at a time through
 * {@code flatMap} and merges every answer back into the state.
 *
 * <p>Internal: public only because the engine's other packages use these types. They are not part
 * of kad's API and may change in any release; observe a lookup through {@link
 * dev.kad.api.KadNode#trace}.
 */
package dev.kad.reactor.lookup;
