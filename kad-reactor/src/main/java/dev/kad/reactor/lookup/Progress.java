package dev.kad.reactor.lookup;

import dev.kad.api.LookupEvent;
import dev.kad.api.Value;
import java.util.List;

/**
 * One step of a lookup: the public event, and for an answer to a find-value the values it carried.
 *
 * @param event what happened
 * @param values the values an answer carried, empty otherwise
 */
public record Progress(LookupEvent event, List<Value> values) {

  /**
   * Copies the values.
   *
   * @param event what happened
   * @param values the values an answer carried
   */
  public Progress {
    values = List.copyOf(values);
  }

  static Progress of(LookupEvent event) {
    return new Progress(event, List.of());
  }
}
