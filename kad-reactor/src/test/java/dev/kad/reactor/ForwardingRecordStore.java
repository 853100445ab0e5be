package dev.kad.reactor;

import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoreOutcome;
import dev.kad.reactor.store.StoredValue;
import java.time.Instant;
import java.util.List;

/** A store that forwards everything to another; tests override the call they break. */
class ForwardingRecordStore implements RecordStore {

  private final RecordStore delegate;

  ForwardingRecordStore(RecordStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public StoreOutcome store(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
    return delegate.store(key, value, keepUntil, cached, now);
  }

  @Override
  public List<Value> get(Key key, Instant now) {
    return delegate.get(key, now);
  }

  @Override
  public List<StoredValue> entries(Instant now) {
    return delegate.entries(now);
  }

  @Override
  public int expire(Instant now) {
    return delegate.expire(now);
  }

  @Override
  public int size() {
    return delegate.size();
  }

  @Override
  public long storedBytes() {
    return delegate.storedBytes();
  }
}
