package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.NodeId;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.ser.std.StdSerializer;

/** {@link KadJacksonAutoConfiguration} with Spring Boot's Jackson auto-configuration: no node. */
class KadJacksonAutoConfigurationTest {

  private static final NodeId ID = NodeId.parse("0123456789abcdef0123456789abcdef01234567");
  private static final Contact CONTACT = new Contact(ID, Address.parse("[::1]:7000"));

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  JacksonAutoConfiguration.class, KadJacksonAutoConfiguration.class));

  @Test
  void theModuleReachesSpringBootsJsonMapper() {
    runner.run(
        context -> {
          assertThat(context).hasSingleBean(KadJacksonModule.class);
          JsonMapper mapper = context.getBean(JsonMapper.class);
          assertThat(mapper.writeValueAsString(CONTACT))
              .isEqualTo("{\"id\":\"" + ID.toHex() + "\",\"address\":\"[::1]:7000\"}");
          assertThat(mapper.readValue("\"" + ID.toHex() + "\"", NodeId.class)).isEqualTo(ID);
          assertThat(context.getBean(KadJacksonProperties.class).isEnabled()).isTrue();
        });
  }

  @Test
  void aUserModuleReplacesTheStartersOwn() {
    runner
        .withUserConfiguration(UserModule.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(KadJacksonModule.class);
              assertThat(context.getBean(KadJacksonModule.class))
                  .isSameAs(context.getBean("userKadModule"));
              assertThat(context.getBean(JsonMapper.class).writeValueAsString(ID))
                  .isEqualTo("\"node:" + ID.toShortHex() + "\"");
            });
  }

  @Test
  void kadJacksonEnabledFalseLeavesTheMapperAlone() {
    runner
        .withPropertyValues("kad.jackson.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed().doesNotHaveBean(KadJacksonModule.class);
              assertThat(context.getBean(JsonMapper.class).registeredModules())
                  .extracting(JacksonModule::getModuleName)
                  .doesNotContain("kad");
            });
  }

  @Test
  void withoutJackson3TheStarterAddsNothing() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(KadJacksonAutoConfiguration.class))
        .withClassLoader(new FilteredClassLoader("tools.jackson."))
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("kadJacksonModule"));
  }

  @Test
  void idesSeeTheSwitchAndItsDefault() throws Exception {
    String metadata;
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(metadata)
        .contains("\"name\": \"kad.jackson.enabled\"")
        .contains("Whether to register kad's Jackson module");
  }

  @Configuration(proxyBeanMethods = false)
  static class UserModule {

    @Bean
    KadJacksonModule userKadModule() {
      return new ShortIds();
    }
  }

  /** An application's own shapes: short ids. */
  static class ShortIds extends KadJacksonModule {

    private static final long serialVersionUID = 1L;

    ShortIds() {
      addSerializer(
          NodeId.class,
          new StdSerializer<NodeId>(NodeId.class) {
            @Override
            public void serialize(NodeId id, JsonGenerator gen, SerializationContext ctxt) {
              gen.writeString("node:" + id.toShortHex());
            }
          });
    }
  }
}
