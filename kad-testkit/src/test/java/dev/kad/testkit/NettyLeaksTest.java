package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.reflect.Proxy;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The leak check sees a buffer dropped without release, does not blame a released one, and forgets
 * what it reported so that no other class is failed for it. Registered with {@code @ExtendWith} so
 * the class's own afterAll check also runs (and must pass: every deliberate leak is consumed here).
 */
@ExtendWith(NettyLeaks.class)
class NettyLeaksTest {

  @BeforeEach
  void startClean() {
    assertThat(NettyLeaks.check()).isEmpty();
  }

  @Test
  void aBufferDroppedWithoutReleaseIsReportedWithWhereItWasMade() {
    leakOne(ByteBufAllocator.DEFAULT.directBuffer(16));

    List<String> leaks = NettyLeaks.check();

    assertThat(leaks).hasSize(1);
    assertThat(leaks.get(0)).startsWith("LEAK: ByteBuf").contains("leakOne");
    assertThat(NettyLeaks.check()).as("a reported leak is reported once").isEmpty();
  }

  @Test
  void leaksFromEachAllocatorInUseAreReported() {
    leakOne(ByteBufAllocator.DEFAULT.heapBuffer(16));
    leakTwo(UnpooledByteBufAllocator.DEFAULT.directBuffer(16));
    // Netty does not track unpooled heap buffers (the collector frees all they hold): no report
    leakThree(UnpooledByteBufAllocator.DEFAULT.heapBuffer(16));

    List<String> leaks = NettyLeaks.check();

    assertThat(leaks).hasSize(2);
    assertThat(String.join("\n", leaks)).contains("leakOne", "leakTwo").doesNotContain("leakThree");
  }

  @Test
  void releasedAndStillHeldBuffersAreNotReported() {
    ByteBuf released = ByteBufAllocator.DEFAULT.directBuffer(16);
    released.writeInt(1);
    released.release();
    ByteBuf held = ByteBufAllocator.DEFAULT.heapBuffer(16);

    assertThat(NettyLeaks.check()).isEmpty();

    held.release();
  }

  @Test
  void aCheckCostsWellUnderASecond() {
    ByteBufAllocator.DEFAULT.directBuffer(16).release(); // a buffer tracked: the check collects

    long start = System.nanoTime();
    assertThat(NettyLeaks.check()).isEmpty();
    assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
  }

  @Test
  void afterAllFailsTheClassWithTheRecordsThenForgetsThem() {
    leakFour(ByteBufAllocator.DEFAULT.directBuffer(16));
    ExtensionContext context =
        (ExtensionContext)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {ExtensionContext.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("getDisplayName")) {
                    return "LeakyTest";
                  }
                  throw new UnsupportedOperationException(method.getName());
                });

    assertThatThrownBy(() -> new NettyLeaks().afterAll(context))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("1 Netty resource leak(s) reported after LeakyTest")
        .hasMessageContaining("leakFour");
    assertThat(NettyLeaks.check()).isEmpty();
  }

  // distinct methods: Netty reports a leak once per distinct record, and the records name them

  private static void leakOne(ByteBuf buf) {
    buf.writeInt(1); // a touch, so that the records have an access too
  }

  private static void leakTwo(ByteBuf buf) {
    buf.writeInt(2);
  }

  private static void leakThree(ByteBuf buf) {
    buf.writeInt(3);
  }

  private static void leakFour(ByteBuf buf) {
    buf.writeInt(4);
  }
}
