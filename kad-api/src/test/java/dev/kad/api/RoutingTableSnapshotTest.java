package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RoutingTableSnapshotTest {

  private final SplittableRandom rng = new SplittableRandom(5);
  private final NodeId self = NodeId.random(rng);

  private RoutingTableSnapshot table(int contacts) {
    List<Contact> list =
        java.util.stream.IntStream.range(0, contacts)
            .mapToObj(i -> new Contact(NodeId.random(rng), new Address("10.0.0." + i, 4000)))
            .toList();
    return new RoutingTableSnapshot(
        self, List.of(new RoutingTableSnapshot.Bucket(self, 0, list, List.of())));
  }

  @Test
  void closestRefusesBadArgumentsNamingThemWhateverTheTableHolds() {
    for (int contacts : new int[] {0, 1, 3}) {
      RoutingTableSnapshot t = table(contacts);
      assertThatThrownBy(() -> t.closest(self, -1))
          .as("%d contacts", contacts)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("n must not be negative but was -1");
      assertThatThrownBy(() -> t.closest(null, 1))
          .as("%d contacts", contacts)
          .isInstanceOf(NullPointerException.class)
          .hasMessage("target");
      assertThatThrownBy(() -> t.closest(NodeId.random(256, rng), 1))
          .as("%d contacts", contacts)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("target must have the table's 160 bits but had 256");
    }
    RoutingTableSnapshot t = table(3);
    assertThat(t.closest(self, 0)).isEmpty();
    assertThat(t.closest(self, 5)).hasSize(3);
  }
}
