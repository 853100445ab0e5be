package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoSeedAnsweredExceptionTest {

  private static final Address MISFIT = Address.parse("10.0.0.5:7000");
  private static final Address DOWN = Address.parse("10.0.0.6:7000");

  @Test
  void aRetryMayHelpOnlyWhileSomeSeedFailedInAWayARetryMends() {
    Map<Address, Throwable> failures = new LinkedHashMap<>();
    failures.put(MISFIT, new IncompatiblePeerException("peer at " + MISFIT + " requires TLS"));
    assertThat(failed(failures).isTransient()).isFalse();

    failures.put(DOWN, new UnreachableContactException("cannot connect to " + DOWN));
    NoSeedAnsweredException mixed = failed(failures);
    assertThat(mixed.isTransient()).isTrue();
    assertThat(mixed.seedFailures().keySet()).containsExactly(MISFIT, DOWN);

    // Seeds answered and the lookup after failed: nothing says a retry cannot help.
    assertThat(failed(Map.of()).isTransient()).isTrue();
  }

  @Test
  void aCopyReadBackTellsWhetherARetryMayHelpThoughItLostTheFailures() throws Exception {
    NoSeedAnsweredException e =
        failed(
            Map.of(MISFIT, new IncompatiblePeerException("peer at " + MISFIT + " requires TLS")));

    NoSeedAnsweredException copy = roundTrip(e);

    assertThat(copy.isTransient()).isFalse();
    assertThat(copy).hasMessage(e.getMessage());
    assertThat(copy.seedFailures()).isEmpty();
    assertThat(roundTrip(failed(Map.of())).isTransient()).isTrue();
  }

  @Test
  void aSeedWithoutItsFailureIsRefusedNamingTheSeed() {
    Map<Address, Throwable> failures = new LinkedHashMap<>();
    failures.put(DOWN, null);

    assertThatThrownBy(() -> failed(failures))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("failure of " + DOWN);
  }

  private static NoSeedAnsweredException failed(Map<Address, Throwable> failures) {
    return new NoSeedAnsweredException("no seed answered", null, List.of(), failures);
  }

  private static NoSeedAnsweredException roundTrip(NoSeedAnsweredException e)
      throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(e);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (NoSeedAnsweredException) in.readObject();
    }
  }
}
