package dev.kad.reactor.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.NodeId;
import dev.kad.reactor.lookup.LookupState.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LookupStateTest {

  private final SplittableRandom rng = new SplittableRandom(17);
  private final NodeId self = NodeId.random(rng);
  private final NodeId target = NodeId.random(rng);

  private List<Contact> contacts(int n) {
    List<Contact> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Contact(NodeId.random(rng), new Address("10.0.0." + i, 1)));
    }
    out.sort(Comparator.comparing(c -> target.distance(c.id())));
    return out;
  }

  @Test
  void refusesSettingsItsRulesCannotKeepNamingTheValue() {
    List<Contact> seeds = contacts(3);
    assertThatThrownBy(() -> new LookupState(target, self, 0, 1, seeds))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("k must be at least 1 but was 0");
    assertThatThrownBy(() -> new LookupState(target, self, 4, 0, seeds))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("alpha must be at least 1 but was 0");
    assertThatThrownBy(() -> new LookupState(target, self, 4, 3, -1, seeds))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("budget must be at least 0 but was -1");
    assertThatThrownBy(() -> new LookupState(target, self, 4, 3, 10, 2, seeds))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPending must be at least alpha 3 but was 2");
    assertThatThrownBy(() -> new LookupState(NodeId.random(256, rng), self, 4, 3, seeds))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target must have 160 bits as self has but had 256");
    // The bounds themselves are fine: a budget of nothing asks nobody and is done at once.
    LookupState state = new LookupState(target, self, 4, 3, 0, 3, seeds);
    assertThat(state.next()).isEmpty();
    assertThat(state.isDone()).isTrue();
  }

  @Test
  void asksAlphaClosestFirstAndNoMoreUntilOneSettles() {
    List<Contact> seeds = contacts(6);
    LookupState state = new LookupState(target, self, 4, 2, seeds);
    assertThat(state.next()).containsExactly(seeds.get(0), seeds.get(1));
    assertThat(state.next()).isEmpty();
    state.failed(seeds.get(0).id());
    assertThat(state.next()).containsExactly(seeds.get(2));
  }

  @Test
  void aStalledRequestFreesItsSlotAndItsLateAnswerStillCounts() {
    List<Contact> seeds = contacts(3);
    LookupState state = new LookupState(target, self, 3, 1, seeds);
    assertThat(state.next()).containsExactly(seeds.get(0));
    state.stalled(seeds.get(0).id());
    assertThat(state.status(seeds.get(0).id())).isEqualTo(Status.STALLED);
    assertThat(state.next()).containsExactly(seeds.get(1));
    state.answered(seeds.get(0).id(), List.of());
    assertThat(state.status(seeds.get(0).id())).isEqualTo(Status.ANSWERED);
    assertThat(state.pending()).isEqualTo(1);
  }

  @Test
  void doneWhenTheKClosestThatDidNotFailHaveAnswered() {
    List<Contact> seeds = contacts(5);
    LookupState state = new LookupState(target, self, 2, 3, seeds);
    List<Contact> asked = state.next();
    assertThat(asked).hasSize(2);
    state.failed(seeds.get(0).id());
    assertThat(state.isDone()).isFalse();
    state.answered(seeds.get(1).id(), List.of());
    assertThat(state.isDone()).isFalse();
    assertThat(state.next()).containsExactly(seeds.get(2));
    state.answered(seeds.get(2).id(), List.of());
    // seeds 3 and 4 were never asked: they are not among the 2 closest that did not fail.
    assertThat(state.isDone()).isTrue();
    assertThat(state.closestAnswered(2)).containsExactly(seeds.get(1), seeds.get(2));
  }

  @Test
  void aCloserContactFromAnAnswerIsAskedNextAndKeepsTheLookupGoing() {
    List<Contact> all = contacts(4);
    LookupState state = new LookupState(target, self, 1, 1, List.of(all.get(3)));
    assertThat(state.next()).containsExactly(all.get(3));
    List<Contact> closer = state.answered(all.get(3).id(), List.of(all.get(0), all.get(1)));
    assertThat(closer).containsExactly(all.get(0), all.get(1));
    assertThat(state.hop(all.get(0).id())).isEqualTo(2);
    assertThat(state.isDone()).isFalse();
    assertThat(state.next()).containsExactly(all.get(0));
    state.answered(all.get(0).id(), List.of());
    assertThat(state.isDone()).isTrue();
  }

  @Test
  void ignoresItselfDuplicatesAndOtherWidths() {
    List<Contact> seeds = contacts(1);
    LookupState state = new LookupState(target, self, 4, 1, seeds);
    state.next();
    Contact me = new Contact(self, new Address("10.9.9.9", 1));
    Contact wide = new Contact(NodeId.random(256, rng), new Address("10.9.9.8", 1));
    assertThat(state.answered(seeds.get(0).id(), List.of(me, wide, seeds.get(0)))).isEmpty();
    assertThat(state.status(self)).isNull();
    assertThat(state.isDone()).isTrue();
  }

  @Test
  void ignoresContactsNoRequestCouldReachButTakesTheIdLaterAtAReachableAddress() {
    List<Contact> seeds = contacts(1);
    LookupState state = new LookupState(target, self, 4, 1, seeds);
    state.next();
    NodeId id = NodeId.random(rng);
    List<Contact> unreachable =
        List.of(
            new Contact(id, new Address("0.0.0.0", 4000)),
            new Contact(id, new Address("224.0.0.1", 4000)),
            new Contact(id, new Address("10.9.9.9", 0)));
    assertThat(state.answered(seeds.get(0).id(), unreachable)).isEmpty();
    assertThat(state.status(id)).isNull();
    assertThat(state.isDone()).isTrue();
    // The id named at a reachable address by another answer is a contact like any other.
    state.offer(List.of(new Contact(id, new Address("10.9.9.9", 4000))), 2);
    assertThat(state.next()).extracting(Contact::id).containsExactly(id);
  }

  @Test
  void widensToEveryEligibleContactAfterAWindowWithoutProgress() {
    List<Contact> all = contacts(8);
    // Seeds: the two closest are asked first; their answers bring nothing closer.
    LookupState state = new LookupState(target, self, 6, 2, all);
    assertThat(state.next()).containsExactly(all.get(0), all.get(1));
    state.answered(all.get(0).id(), List.of());
    assertThat(state.next()).containsExactly(all.get(2));
    state.answered(all.get(2).id(), List.of());
    state.answered(all.get(1).id(), List.of());
    assertThat(state.isWidened()).isTrue();
    // Widened: all remaining of the 6 closest at once.
    assertThat(state.next()).containsExactly(all.get(3), all.get(4), all.get(5));
  }

  @Test
  void progressMeansCloserThanTheClosestSeenNotJustCloserThanTheAnswerers() {
    List<Contact> all = contacts(8);
    LookupState state =
        new LookupState(
            target, self, 6, 2, List.of(all.get(0), all.get(1), all.get(5), all.get(6)));
    assertThat(state.next()).containsExactly(all.get(0), all.get(1));
    // Both answers bring a contact closer than any node that answered, but none closer than
    // all.get(0), the closest seen since the start: a round without progress (Kademlia §2.3).
    state.answered(all.get(1).id(), List.of(all.get(2)));
    assertThat(state.isWidened()).isFalse();
    state.answered(all.get(0).id(), List.of(all.get(3)));
    assertThat(state.isWidened()).isTrue();
    assertThat(state.next()).containsExactly(all.get(2), all.get(3), all.get(5), all.get(6));
  }

  @Test
  void widenedAsksEveryEligibleContactThoughFartherRequestsAreStillInFlight() {
    // Found by LookupStateProperties: widened, the state counted requests to contacts pushed out
    // of the window against k and left eligible contacts unasked (k = 8, alpha = 1 there).
    List<Contact> all = contacts(8);
    Contact a = all.get(0);
    Contact p = all.get(1);
    Contact q = all.get(2);
    Contact b = all.get(3);
    Contact c = all.get(4);
    LookupState state =
        new LookupState(target, self, 3, 1, List.of(a, b, c, all.get(5), all.get(6), all.get(7)));
    assertThat(state.next()).containsExactly(a);
    state.stalled(a.id());
    assertThat(state.next()).containsExactly(b);
    state.stalled(b.id());
    assertThat(state.next()).containsExactly(c);
    state.answered(c.id(), List.of());
    assertThat(state.isWidened()).isTrue();
    assertThat(state.next()).containsExactly(all.get(5), all.get(6));
    // a's late answer brings p and q, closer than every answer but not than a, the closest seen:
    // still widened, and the window is a, p, q while the two farther requests are out.
    state.answered(a.id(), List.of(p, q));
    assertThat(state.isWidened()).isTrue();
    assertThat(state.next()).containsExactly(p, q);
  }

  @Test
  void unknownOrRepeatedOutcomesAreIgnored() {
    List<Contact> seeds = contacts(2);
    LookupState state = new LookupState(target, self, 2, 2, seeds);
    state.next();
    state.answered(seeds.get(0).id(), List.of());
    state.failed(seeds.get(0).id());
    assertThat(state.status(seeds.get(0).id())).isEqualTo(Status.ANSWERED);
    state.failed(NodeId.random(rng));
    assertThat(state.pending()).isEqualTo(1);
  }

  @Test
  void stalledContactsLeaveTheWindowSoFartherOnesAreAsked() {
    List<Contact> seeds = contacts(4);
    LookupState state = new LookupState(target, self, 2, 2, seeds);
    assertThat(state.next()).containsExactly(seeds.get(0), seeds.get(1));
    state.stalled(seeds.get(0).id());
    state.stalled(seeds.get(1).id());
    assertThat(state.next()).containsExactly(seeds.get(2), seeds.get(3));
    state.answered(seeds.get(2).id(), List.of());
    assertThat(state.isDone()).isFalse();
    state.answered(seeds.get(3).id(), List.of());
    // k answered: the stalled two, most likely dead, do not hold the lookup up.
    assertThat(state.isDone()).isTrue();
  }

  @Test
  void withFewerThanKAnswersTheLookupWaitsForStalledOnes() {
    List<Contact> seeds = contacts(2);
    LookupState state = new LookupState(target, self, 4, 2, seeds);
    state.next();
    state.stalled(seeds.get(0).id());
    state.answered(seeds.get(1).id(), List.of());
    assertThat(state.isDone()).isFalse();
    state.answered(seeds.get(0).id(), List.of());
    assertThat(state.isDone()).isTrue();
  }

  @Test
  void aLookupWithABudgetSendsNoMoreAndEndsWhenItIsSpent() {
    List<Contact> seeds = contacts(8);
    LookupState state = new LookupState(target, self, 6, 3, 4, seeds);
    List<Contact> asked = new java.util.ArrayList<>(state.next());
    assertThat(asked).hasSize(3);
    for (Contact c : List.copyOf(asked)) {
      state.answered(c.id(), List.of());
      asked.addAll(state.next());
    }
    assertThat(asked).hasSize(4);
    assertThat(state.queried()).isEqualTo(4);
    assertThat(state.isDone()).isFalse();
    state.answered(asked.get(3).id(), List.of());
    assertThat(state.isDone()).isTrue();
    assertThat(state.next()).isEmpty();
  }
}
