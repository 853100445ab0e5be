package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AddressTest {

  @Test
  void parsesHostPortAndBracketedIpv6AndPrintsThemBack() {
    assertThat(Address.parse("127.0.0.1:4000")).isEqualTo(new Address("127.0.0.1", 4000));
    assertThat(Address.parse("node.example:1")).isEqualTo(new Address("node.example", 1));
    Address v6 = Address.parse("[::1]:4000");
    assertThat(v6).isEqualTo(new Address("::1", 4000));
    assertThat(v6.toString()).isEqualTo("[::1]:4000");
    assertThat(Address.parse(v6.toString())).isEqualTo(v6);
    assertThat(new Address("127.0.0.1", 4000).toString()).isEqualTo("127.0.0.1:4000");
  }

  @Test
  void rejectsTextWithoutAValidPortNamingIt() {
    assertThatThrownBy(() -> Address.parse("localhost"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localhost");
    assertThatThrownBy(() -> Address.parse("localhost:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("99999");
    assertThatThrownBy(() -> Address.parse("localhost:http"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localhost:http");
    assertThatThrownBy(() -> new Address(" ", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host");
  }
}
