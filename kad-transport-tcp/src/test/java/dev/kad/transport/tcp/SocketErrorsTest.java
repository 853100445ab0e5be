package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.UnresolvedAddressException;
import org.junit.jupiter.api.Test;

/** The reasons a failed bind or dial is reported with: the system's words, not Netty's. */
class SocketErrorsTest {

  @Test
  void aNativeCallsPrefixIsLeftOut() {
    IOException wrapped =
        new IOException(
            "wrapper",
            new ConnectException("finishConnect(..) failed with error(-111): Connection refused"));

    assertThat(SocketErrors.reason(wrapped)).isEqualTo("Connection refused");
  }

  @Test
  void anUnresolvableHostIsSaidInWordsNotByTheJdksClassName() {
    IllegalStateException bind =
        new IllegalStateException("bind failed", new UnresolvedAddressException());

    assertThat(SocketErrors.reason(bind)).isEqualTo("the host name cannot be resolved");
  }

  @Test
  void aCauseWithoutAMessageIsNamedByItsClass() {
    assertThat(SocketErrors.reason(new RuntimeException(new IllegalStateException())))
        .isEqualTo("IllegalStateException");
  }
}
