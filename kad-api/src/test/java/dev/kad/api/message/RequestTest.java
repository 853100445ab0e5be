package dev.kad.api.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTest {

  private static final Contact SENDER =
      new Contact(NodeId.of(new byte[20]), new Address("127.0.0.1", 7000));
  private static final Key KEY = Key.of("k");

  private static List<Request> everyType() {
    Value v = Value.of(new byte[] {1}, SENDER.id(), 0, 1, Instant.EPOCH);
    return List.of(
        new Request.Ping(SENDER),
        new Request.FindNode(SENDER, SENDER.id()),
        new Request.FindValue(SENDER, KEY),
        new Request.Store(SENDER, KEY, List.of(v), true),
        new Request.Subscribe(SENDER, KEY, Duration.ofMinutes(1)),
        new Request.Unsubscribe(SENDER, KEY),
        new Request.Notify(SENDER, KEY, List.of(v)));
  }

  @Test
  void theConstructorsWithoutTheMarkMakeRequestsOfFullNodes() {
    assertThat(everyType()).noneMatch(Request::fromClient);
    assertThat(new Request.Ping(SENDER)).isEqualTo(new Request.Ping(SENDER, false));
  }

  @Test
  void withFromClientChangesOnlyTheMark() {
    for (Request r : everyType()) {
      Request marked = r.withFromClient(true);
      assertThat(marked.fromClient()).as("%s", r).isTrue();
      assertThat(marked).isInstanceOf(r.getClass()).isNotEqualTo(r);
      assertThat(marked.sender()).isEqualTo(r.sender());
      assertThat(marked.withFromClient(false)).isEqualTo(r);
      assertThat(r.withFromClient(false)).isSameAs(r);
      assertThat(marked.withFromClient(true)).isSameAs(marked);
    }
  }

  @Test
  void aSubscriptionTtlNoNodeCouldSendIsRefusedNamingIt() {
    assertThatThrownBy(() -> new Request.Subscribe(SENDER, KEY, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl must be in [0, PT876000H] but was PT-1S");
    // Past a century its milliseconds would overflow on the wire.
    assertThatThrownBy(() -> new Response.Subscribed(SENDER, Duration.ofDays(36_501)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was PT876024H");
    assertThat(new Request.Subscribe(SENDER, KEY, KadConfig.MAX_DURATION).ttl())
        .isEqualTo(KadConfig.MAX_DURATION);
  }

  @Test
  void theConstructorsWithoutATokenMakeLiveStreamMessagesWithoutOneAndTheMarkKeepsIt() {
    Value v = Value.of(new byte[] {1}, SENDER.id(), 0, 1, Instant.EPOCH);
    Duration ttl = Duration.ofMinutes(1);
    assertThat(new Request.Subscribe(SENDER, KEY, ttl).token()).isZero();
    assertThat(new Request.Unsubscribe(SENDER, KEY).token()).isZero();
    assertThat(new Request.Notify(SENDER, KEY, List.of(v)).token()).isZero();
    assertThat(new Response.Subscribed(SENDER, ttl, true).token()).isZero();
    assertThat(new Response.Subscribed(SENDER, ttl).token()).isZero();
    List<Request> tokened =
        List.of(
            new Request.Subscribe(SENDER, KEY, ttl).withToken(-9),
            new Request.Unsubscribe(SENDER, KEY).withToken(-9),
            new Request.Notify(SENDER, KEY, List.of(v)).withToken(-9));
    for (Request r : tokened) {
      Request marked = r.withFromClient(true);
      assertThat(marked.withFromClient(false)).isEqualTo(r);
      assertThat(marked).extracting("token").as("%s keeps its token when marked", r).isEqualTo(-9L);
    }
    Request.Subscribe s = new Request.Subscribe(SENDER, KEY, ttl, true, 5);
    assertThat(s.withToken(5)).isSameAs(s);
    assertThat(s.withToken(0)).isEqualTo(new Request.Subscribe(SENDER, KEY, ttl, true));
  }
}
