package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class KadConfigTest {

  @Test
  void defaultsAreThePapers() {
    KadConfig c = KadConfig.defaults();
    assertThat(c.idBits()).isEqualTo(160);
    assertThat(c.k()).isEqualTo(20);
    assertThat(c.alpha()).isEqualTo(3);
    assertThat(c.expireAfter()).isEqualTo(Duration.ofHours(24));
    assertThat(c.refreshInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(c.replicateInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(c.republishInterval()).isEqualTo(Duration.ofHours(24));
    assertThat(c.maxFrameBytes()).isEqualTo(64 * 1024);
    assertThat(c.softTimeout()).isLessThanOrEqualTo(c.hardTimeout());
  }

  @Test
  void settersRejectBadValuesNamingThem() {
    assertThatThrownBy(() -> KadConfig.builder().k(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("k must be in [1, 256] but was 0");
    assertThatThrownBy(() -> KadConfig.builder().alpha(-1))
        .hasMessage("alpha must be in [1, 64] but was -1");
    assertThatThrownBy(() -> KadConfig.builder().idBits(128))
        .hasMessage("idBits must be 160 or 256 but was 128");
    assertThatThrownBy(() -> KadConfig.builder().hardTimeout(Duration.ZERO))
        .hasMessage("hardTimeout must be positive but was PT0S");
    assertThatThrownBy(() -> KadConfig.builder().maxFrameBytes(10))
        .hasMessage("maxFrameBytes must be in [1024, 67108864] but was 10");
    // with 1, an offline node's first failed request to each contact would empty its table
    assertThatThrownBy(() -> KadConfig.builder().maxFailures(1))
        .hasMessage("maxFailures must be in [2, 1000] but was 1");
    assertThatThrownBy(() -> KadConfig.builder().maxSubscriptionsPerPeer(0))
        .hasMessage("maxSubscriptionsPerPeer must be in [1, 1000000] but was 0");
    assertThatThrownBy(() -> KadConfig.builder().expireAfter(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("expireAfter");
  }

  @Test
  void buildRejectsContradictingSettings() {
    assertThatThrownBy(
            () ->
                KadConfig.builder()
                    .softTimeout(Duration.ofSeconds(3))
                    .hardTimeout(Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("softTimeout")
        .hasMessageContaining("PT3S");
    assertThatThrownBy(() -> KadConfig.builder().maxValueBytes(100_000).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxValueBytes must be in [1, 65536] but was 100000");
    // 60,000 bytes are 80,000 in base64: no answer could carry such a value.
    assertThatThrownBy(() -> KadConfig.builder().maxValueBytes(60_000).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxValueBytes 60000 does not fit one message")
        .hasMessageContaining("maxFrameBytes 65536")
        .hasMessageContaining("at most 46566 fits; raise maxFrameBytes for larger values");
    // The size named is the largest that builds.
    assertThat(KadConfig.builder().maxValueBytes(46_566).build().maxValueBytes()).isEqualTo(46_566);
    assertThatThrownBy(() -> KadConfig.builder().maxValueBytes(46_567).build())
        .hasMessageContaining("at most 46566 fits");
    assertThatThrownBy(
            () -> KadConfig.builder().k(256).maxFrameBytes(4096).maxValueBytes(1000).build())
        .hasMessageContaining("no value fits; raise maxFrameBytes or lower k");
  }

  @Test
  void theDefaultsFitTwoLargestValuesOfAKeyInOneAnswer() {
    KadConfig c = KadConfig.defaults();
    long largest =
        c.valueWireBytes(
            new Value(
                new byte[c.maxValueBytes()],
                NodeId.random(new java.util.SplittableRandom(1)),
                1,
                1,
                java.time.Instant.EPOCH,
                new byte[44],
                new byte[64]));
    assertThat(2 * largest).isLessThanOrEqualTo(c.keyWireBudget());
    assertThat(3 * largest).isGreaterThan(c.keyWireBudget());
    assertThat(c.keyWireBudget()).isLessThan(c.maxFrameBytes());
  }

  @Test
  void maxPerIpIsTwoByDefaultZeroTurnsItOffAndOutOfRangeIsRefusedNamingTheValue() {
    assertThat(KadConfig.defaults().maxPerIp()).isEqualTo(2);
    assertThat(KadConfig.builder().maxPerIp(0).build().maxPerIp()).isZero();
    assertThat(KadConfig.builder().maxPerIp(256).build().maxPerIp()).isEqualTo(256);
    assertThatThrownBy(() -> KadConfig.builder().maxPerIp(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPerIp must be in [0, 256] but was -1");
    assertThatThrownBy(() -> KadConfig.builder().maxPerIp(257))
        .hasMessage("maxPerIp must be in [0, 256] but was 257");
    KadConfig one = KadConfig.builder().maxPerIp(1).build();
    assertThat(one.toBuilder().build().maxPerIp()).isEqualTo(1);
  }

  @Test
  void toBuilderKeepsEverySetting() {
    KadConfig c =
        KadConfig.builder()
            .idBits(256)
            .k(8)
            .alpha(2)
            .relaxedSplit(true)
            .maintenance(false)
            .maxSubscriptionsPerPeer(5)
            .build();
    assertThat(c.toBuilder().build()).isEqualTo(c);
    assertThat(c.toBuilder().k(9).build().k()).isEqualTo(9);
  }

  @Test
  void clientModeIsOffByDefaultAndKeptByToBuilder() {
    assertThat(KadConfig.defaults().clientMode()).isFalse();
    KadConfig client = KadConfig.builder().clientMode(true).build();
    assertThat(client.clientMode()).isTrue();
    assertThat(client.toBuilder().build().clientMode()).isTrue();
    assertThat(client.toBuilder().clientMode(false).build()).isEqualTo(KadConfig.defaults());
  }

  @Test
  void everyMaintenanceJobRunsByDefaultAndTheSetIsCopied() {
    assertThat(KadConfig.defaults().jobs()).containsExactlyInAnyOrder(MaintenanceJob.values());
    java.util.Set<MaintenanceJob> chosen =
        new java.util.HashSet<>(java.util.Set.of(MaintenanceJob.EXPIRY));
    KadConfig c = KadConfig.builder().jobs(chosen).build();
    chosen.add(MaintenanceJob.REFRESH);
    assertThat(c.jobs()).containsExactly(MaintenanceJob.EXPIRY);
    assertThat(KadConfig.builder().jobs(java.util.Set.of()).build().jobs()).isEmpty();
    assertThatThrownBy(() -> KadConfig.builder().expiryInterval(Duration.ZERO))
        .hasMessage("expiryInterval must be at least PT0.001S but was PT0S");
  }

  @Test
  void aMaintenancePeriodUnderAMillisecondIsRefusedNamingIt() {
    // A sixth of 3 ns is a refresh job without pause.
    assertThatThrownBy(() -> KadConfig.builder().refreshInterval(Duration.ofNanos(3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("refreshInterval must be at least PT0.001S but was PT0.000000003S");
    assertThatThrownBy(() -> KadConfig.builder().expireAfter(Duration.ofNanos(999_999)))
        .hasMessageStartingWith("expireAfter must be at least PT0.001S");
    assertThat(KadConfig.builder().republishInterval(KadConfig.MIN_PERIOD)).isNotNull();
  }

  @Test
  void durationsTheSchedulersCannotHoldAreRejectedNamingThem() {
    // Before, these built and then failed the node at run time: Duration.toNanos() overflows past
    // 292 years (timeouts, intervals, jitter) and Instant.plus past Instant.MAX (latestExpiry).
    Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
    Duration threeCenturies = Duration.ofDays(365L * 300);
    assertThatThrownBy(() -> KadConfig.builder().hardTimeout(threeCenturies))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("hardTimeout must be at most PT876000H but was PT2628000H");
    java.util.Map<String, java.util.function.Consumer<Duration>> setters =
        java.util.Map.of(
            "pingGrace", d -> KadConfig.builder().pingGrace(d),
            "softTimeout", d -> KadConfig.builder().softTimeout(d),
            "expireAfter", d -> KadConfig.builder().expireAfter(d),
            "refreshInterval", d -> KadConfig.builder().refreshInterval(d),
            "replicateInterval", d -> KadConfig.builder().replicateInterval(d),
            "republishInterval", d -> KadConfig.builder().republishInterval(d),
            "jobJitter", d -> KadConfig.builder().jobJitter(d),
            "expiryInterval", d -> KadConfig.builder().expiryInterval(d),
            "subscriptionTtl", d -> KadConfig.builder().subscriptionTtl(d));
    setters.forEach(
        (name, setter) ->
            assertThatThrownBy(() -> setter.accept(forever))
                .as(name)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(name + " must be at most PT876000H but was"));
    KadConfig longest =
        KadConfig.builder()
            .hardTimeout(KadConfig.MAX_DURATION)
            .expireAfter(KadConfig.MAX_DURATION)
            .build();
    assertThat(longest.hardTimeout().toNanos()).isPositive();
    assertThat(longest.latestExpiry(java.time.Instant.parse("2026-01-01T00:00:00Z")))
        .isAfter(java.time.Instant.parse("2125-01-01T00:00:00Z"));
  }

  @Test
  void valueWireBytesCountsThePublishersWidth() {
    KadConfig c = KadConfig.defaults();
    Value wide =
        Value.of(
            new byte[10],
            NodeId.random(256, new java.util.SplittableRandom(1)),
            1,
            1,
            java.time.Instant.EPOCH);
    Value narrow =
        Value.of(
            new byte[10], NodeId.random(new java.util.SplittableRandom(1)), 1, 1, wide.expiresAt());
    assertThat(c.valueWireBytes(wide) - c.valueWireBytes(narrow)).isEqualTo(44 - 28);
  }

  @Test
  void anAnswerListsEveryContactUnlessLongHostsAndAFullKeyLeaveNoRoom() {
    KadConfig c = KadConfig.builder().k(8).maxFrameBytes(16 * 1024).maxValueBytes(4096).build();
    java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
    List<Value> full = new java.util.ArrayList<>();
    long held = 0;
    // Filled to within a small value of the key's budget, largest values first.
    for (int size = c.maxValueBytes(); size > 0; size /= 2) {
      Value v = Value.of(new byte[size], NodeId.random(rng), 0, 1, java.time.Instant.EPOCH);
      while (held + c.valueWireBytes(v) <= c.keyWireBudget()) {
        held += c.valueWireBytes(v);
        full.add(v);
      }
    }
    List<Contact> shortHosts = new java.util.ArrayList<>();
    List<Contact> longHosts = new java.util.ArrayList<>();
    for (int i = 0; i < c.k(); i++) {
      shortHosts.add(new Contact(NodeId.random(rng), new Address("h".repeat(60), 7000)));
      longHosts.add(new Contact(NodeId.random(rng), new Address("h".repeat(253), 7000)));
    }

    // The key's budget leaves room for k contacts with hosts of up to 60 characters.
    assertThat(c.contactsThatFit(shortHosts, full)).isSameAs(shortHosts);
    assertThat(c.contactsThatFit(longHosts, List.of())).isSameAs(longHosts);
    // Long hosts beside a full key: the closest that fit, the farthest dropped.
    List<Contact> fitting = c.contactsThatFit(longHosts, full);
    assertThat(fitting).isNotEmpty().isEqualTo(longHosts.subList(0, fitting.size()));
    assertThat(fitting.size()).isLessThan(c.k());
    assertThat(held + fitting.stream().mapToLong(c::contactWireBytes).sum())
        .isLessThanOrEqualTo(c.maxFrameBytes() - 512L);
  }
}
