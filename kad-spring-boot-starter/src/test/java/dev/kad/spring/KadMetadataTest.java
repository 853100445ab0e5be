package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** What an IDE shows of the kad.* properties: a description each, and the defaults. */
class KadMetadataTest {

  private static JsonNode property(JsonNode metadata, String name) {
    for (JsonNode p : metadata.get("properties")) {
      if (p.get("name").asText().equals(name)) {
        return p;
      }
    }
    throw new AssertionError("no property " + name);
  }

  /**
   * kad.jobs defaults to every job (EnumSet.allOf, which the annotation processor cannot read): the
   * IDE showed no default, so a user could not tell that unset means all and an empty value none.
   */
  @Test
  void everyPropertyIsDescribedAndTheJobsShowTheirDefault() throws Exception {
    JsonNode metadata;
    try (InputStream in =
        getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      metadata = new ObjectMapper().readTree(in);
    }
    for (JsonNode p : metadata.get("properties")) {
      if (p.get("name").asText().startsWith("kad.")) {
        assertThat(p.path("description").asText()).as(p.get("name").asText()).isNotBlank();
      }
    }
    JsonNode jobs = property(metadata, "kad.jobs").get("defaultValue");
    assertThat(jobs).as("kad.jobs defaultValue").isNotNull();
    assertThat(jobs.toString()).contains("refresh", "liveness", "expiry", "replicate", "republish");
  }
}
