package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

class WatchSessionTest {

  private final SplittableRandom rng = new SplittableRandom(8);
  private final NodeId alice = NodeId.random(rng);
  private final NodeId bob = NodeId.random(rng);
  private final Instant expiry = Instant.parse("2030-01-01T00:00:00Z");

  private Value v(NodeId publisher, long seq) {
    return Value.of(new byte[] {(byte) seq}, publisher, 1, seq, expiry);
  }

  @Test
  void aRequestRacingAnOfferNeverPassesAnOlderSeqPastTheDemand() {
    // A race, so many rounds: before the session counted demand itself, about one round in 600
    // handed the sink a value past the demand, where a newer seq no longer replaced it.
    int stale = 0;
    for (int round = 0; round < 5_000; round++) {
      WatchSession session = new WatchSession(Key.of("k"), 16, Duration.ofMinutes(2));
      List<Value> got = new CopyOnWriteArrayList<>();
      BaseSubscriber<Value> subscriber =
          new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
              // demand comes from the test
            }

            @Override
            protected void hookOnNext(Value v) {
              got.add(v);
            }
          };
      Flux.<Value>create(session::attach).subscribe(subscriber);
      session.offer(List.of(value(alice, 1, 1)));
      session.offer(List.of(value(alice, 2, 1)));
      RaceTestUtils.race(
          () -> subscriber.request(1), () -> session.offer(List.of(value(alice, 3, 1))));
      // Newer seqs of every identity: only these may follow the one value delivered.
      for (int id = 1; id <= 3; id++) {
        session.offer(List.of(value(alice, id, 2)));
      }
      subscriber.request(Long.MAX_VALUE);
      stale += (int) got.stream().skip(1).filter(v -> v.seq() == 1).count();
      subscriber.dispose();
    }
    assertThat(stale).as("older seqs delivered after the first value, in 5,000 rounds").isZero();
  }

  private Value value(NodeId publisher, long valueId, long seq) {
    return Value.of(new byte[] {(byte) valueId}, publisher, valueId, seq, expiry);
  }

  @Test
  void aSlowSubscriberGetsTheLatestValueOfEachPublisher() {
    WatchSession session = new WatchSession(Key.of("k"), 16, Duration.ofMinutes(1));
    StepVerifier.create(Flux.<Value>create(session::attach), 0)
        .then(
            () -> {
              for (int seq = 1; seq <= 100; seq++) {
                session.offer(List.of(v(alice, seq), v(bob, seq)));
              }
            })
        .thenRequest(10)
        .expectNext(v(alice, 100), v(bob, 100))
        .expectNoEvent(Duration.ofMillis(10))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void eachSeqIsDeliveredOnceAndNeverALowerOneAfterAHigher() {
    WatchSession session = new WatchSession(Key.of("k"), 16, Duration.ofMinutes(1));
    StepVerifier.create(Flux.<Value>create(session::attach))
        .then(() -> session.offer(List.of(v(alice, 2))))
        .expectNext(v(alice, 2))
        .then(() -> session.offer(List.of(v(alice, 2), v(alice, 1))))
        .then(() -> session.offer(List.of(v(alice, 3))))
        .expectNext(v(alice, 3))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void aValueSignedWithAnotherKeyUnderAPublishersIdNeverHidesThatPublishersUpdates()
      throws Exception {
    Key key = Key.of("k");
    var owner = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    var forger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value first = v(alice, 1).signedWith(key, owner);
    // Signed by someone else under alice's id, with a seq she will never reach: it verifies,
    // and a node that lets it through (any node a get asks) shows it, but it is not hers.
    Value forged = v(alice, Long.MAX_VALUE).signedWith(key, forger);
    Value second = v(alice, 2).signedWith(key, owner);
    WatchSession session = new WatchSession(key, 16, Duration.ofMinutes(1));
    StepVerifier.create(Flux.<Value>create(session::attach))
        .then(() -> session.offer(List.of(first)))
        .expectNext(first)
        .then(() -> session.offer(List.of(forged)))
        .expectNext(forged)
        .then(() -> session.offer(List.of(second, first)))
        .expectNext(second)
        .then(() -> session.offer(List.of(forged, first)))
        .expectNoEvent(Duration.ofMillis(10))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void theBufferIsBoundedByIdentities() {
    WatchSession session = new WatchSession(Key.of("k"), 2, Duration.ofMinutes(1));
    NodeId carol = NodeId.random(rng);
    StepVerifier.create(Flux.<Value>create(session::attach), 0)
        .then(() -> session.offer(List.of(v(alice, 1), v(bob, 1), v(carol, 1))))
        .thenRequest(5)
        .expectNext(v(bob, 1), v(carol, 1))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void aBusyIdentityIsNotForgottenBeforeQuietOnesSoAnOlderSeqStaysOut() {
    // One pending identity at most, so the session remembers 16 delivered ones.
    WatchSession session = new WatchSession(Key.of("k"), 1, Duration.ofMinutes(1));
    List<Value> quiet = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      quiet.add(v(NodeId.random(rng), 1));
    }
    StepVerifier.create(Flux.<Value>create(session::attach))
        .then(() -> session.offer(List.of(v(alice, 1))))
        .expectNext(v(alice, 1))
        .then(() -> quiet.subList(0, 15).forEach(q -> session.offer(List.of(q))))
        .expectNextCount(15)
        .then(() -> session.offer(List.of(v(alice, 5))))
        .expectNext(v(alice, 5))
        // One identity more than the session remembers: the quietest is forgotten, not alice.
        .then(() -> session.offer(List.of(quiet.get(15))))
        .expectNext(quiet.get(15))
        .then(
            () -> {
              session.offer(List.of(v(alice, 3)));
              session.offer(List.of(v(alice, 6)));
            })
        .expectNext(v(alice, 6))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void aKickIsKeptUntilTakenSoThatOneDuringARoundIsNotLost() {
    WatchSession session = new WatchSession(Key.of("k"), 8, Duration.ofMinutes(10));
    assertThat(session.takeKick()).isFalse();
    // Nobody listens to the kicks while a round runs.
    session.kick();
    assertThat(session.takeKick()).isTrue();
    assertThat(session.takeKick()).isFalse();
  }

  @Test
  void roundsNobodyGrantedAreRetriedWithBackOffUpToAMinute() {
    WatchSession session = new WatchSession(Key.of("k"), 8, Duration.ofMinutes(10));
    assertThat(session.renewal()).isEqualTo(Duration.ofMinutes(5));
    session.grantedNone();
    assertThat(session.renewal()).isEqualTo(WatchSession.FIRST_RETRY);
    session.grantedNone();
    assertThat(session.renewal()).isEqualTo(WatchSession.FIRST_RETRY.multipliedBy(2));
    for (int i = 0; i < 30; i++) {
      session.grantedNone();
    }
    assertThat(session.renewal()).isEqualTo(WatchSession.MAX_RETRY);
    session.granted(Duration.ofMinutes(2));
    assertThat(session.renewal()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void pollingIsReportedOncePerChangeSoItIsLoggedOnceEachWay() {
    WatchSession session = new WatchSession(Key.of("k"), 8, Duration.ofMinutes(10));
    assertThat(session.polling()).isFalse();
    assertThat(session.polling(false)).as("subscribed, as it was").isFalse();
    assertThat(session.polling(true)).as("refused everywhere").isTrue();
    assertThat(session.polling(true)).as("still refused").isFalse();
    assertThat(session.polling()).isTrue();
    assertThat(session.polling(false)).as("granted again").isTrue();
    assertThat(session.polling()).isFalse();
  }

  @Test
  void renewalsAreHalfASecondApartAtLeastWhateverTheTtl() {
    WatchSession session = new WatchSession(Key.of("k"), 8, Duration.ofMillis(100));
    assertThat(session.renewal()).isEqualTo(Duration.ofMillis(500));
    // Cut off: retries are no closer together either.
    session.grantedNone();
    assertThat(session.renewal()).isEqualTo(Duration.ofMillis(500));
    session.granted(Duration.ofMillis(10));
    assertThat(session.renewal()).isEqualTo(Duration.ofMillis(500));
  }
}
