package dev.kad.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** The {@code kad.jackson.*} properties: whether kad's types get their JSON shapes. */
@ConfigurationProperties(prefix = "kad.jackson")
public class KadJacksonProperties {

  /**
   * Whether to register kad's Jackson module, which writes node ids and keys as hex, addresses as
   * host:port and values, put results, lookup events, routing tables and stats as JSON objects,
   * with Spring Boot's JsonMapper (when Jackson 3 is on the class path).
   */
  private boolean enabled = true;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }
}
