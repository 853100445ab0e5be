package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PutOptionsTest {

  @Test
  void theDefaultsAreThoseOfAPutOfBytes() {
    PutOptions d = PutOptions.defaults();
    assertThat(d.valueId()).isZero();
    assertThat(d.ttl()).isEmpty();
    assertThat(d.keyPair()).isEmpty();
    assertThat(d.republish()).isTrue();
    assertThat(d).hasToString("PutOptions[valueId=0, ttl=expireAfter, unsigned, republish=true]");
  }

  @Test
  void eachSettingReturnsACopyAndLeavesTheOriginalAsItWas() throws Exception {
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    PutOptions d = PutOptions.defaults();
    PutOptions o =
        d.valueId(7).ttl(Duration.ofMinutes(30)).signedBy(keys).republish(false).valueId(8);
    assertThat(o.valueId()).isEqualTo(8);
    assertThat(o.ttl()).contains(Duration.ofMinutes(30));
    assertThat(o.keyPair()).containsSame(keys);
    assertThat(o.republish()).isFalse();
    assertThat(d).isEqualTo(PutOptions.defaults());
    assertThat(d.valueId()).isZero();
    assertThat(o)
        .isEqualTo(d.valueId(8).ttl(Duration.ofMinutes(30)).signedBy(keys).republish(false))
        .isNotEqualTo(o.republish(true));
    assertThat(o.hashCode())
        .isEqualTo(
            d.valueId(8).ttl(Duration.ofMinutes(30)).signedBy(keys).republish(false).hashCode());
    // The key pair is not shown.
    assertThat(o).hasToString("PutOptions[valueId=8, ttl=PT30M, signed, republish=false]");
  }

  @Test
  void aTtlThatIsNotPositiveOrTooLongIsRefusedNamingIt() {
    PutOptions d = PutOptions.defaults();
    assertThatThrownBy(() -> d.ttl(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl must be positive but was PT0S");
    assertThatThrownBy(() -> d.ttl(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl must be positive but was PT-1S");
    assertThatThrownBy(() -> d.ttl(KadConfig.MAX_DURATION.plusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("ttl must be at most " + KadConfig.MAX_DURATION);
    assertThatThrownBy(() -> d.ttl(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("ttl");
  }

  @Test
  void aKeyPairThatCannotSignAValueIsRefusedWhenGivenNotWhenPut() throws Exception {
    PutOptions d = PutOptions.defaults();
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    assertThatThrownBy(() -> d.signedBy(rsa))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("keyPair must be an Ed25519 key pair");
    KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
    KeyPair mismatched =
        new KeyPair(ed.generateKeyPair().getPublic(), ed.generateKeyPair().getPrivate());
    assertThatThrownBy(() -> d.signedBy(mismatched))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("public key matches its private key");
    assertThatThrownBy(() -> d.signedBy(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("keyPair");
  }
}
