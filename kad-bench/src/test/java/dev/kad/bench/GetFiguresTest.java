package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GetFiguresTest {

  @Test
  void latenciesAreThoseOfTheGetsThatReturnedTheValue() {
    GetFigures gets = new GetFigures();
    gets.add(2.0, true);
    gets.add(5000.0, false); // a get that timed out
    gets.add(1.0, true);
    gets.add(4999.0, false);
    gets.add(3.0, true);

    assertThat(gets.ms(0.50)).hasValue(2.0);
    assertThat(gets.ms(0.99)).hasValue(3.0);
    assertThat(gets.success()).isEqualTo(0.6);
    assertThat(gets.gets()).isEqualTo(5);
    assertThat(gets.succeeded()).isEqualTo(3);
  }

  @Test
  void theJsonFieldsCarryTheSuccessfulGetsOnly() {
    GetFigures gets = new GetFigures();
    gets.add(1.5, true);
    gets.add(2000.0, false);

    assertThat(gets.writeTo(new JsonLine()).toString())
        .isEqualTo("{\"get_ms_p50\":1.5,\"get_ms_p99\":1.5,\"get_success\":0.5}");
  }

  @Test
  void whenEveryGetFailsTheLatenciesAreNullAndTheLineIsValidJson() {
    GetFigures gets = new GetFigures();
    gets.add(5000.0, false);
    gets.add(12.0, false);

    assertThat(gets.ms(0.50)).isEmpty();
    assertThat(gets.writeTo(new JsonLine()).toString())
        .isEqualTo("{\"get_ms_p50\":null,\"get_ms_p99\":null,\"get_success\":0.0}");
    assertThat(gets.summary()).isEqualTo("success 0.0000 (0 of 2)");
  }
}
