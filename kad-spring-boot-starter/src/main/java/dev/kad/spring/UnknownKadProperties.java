package dev.kad.spring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Warns at start-up, once per name, of each {@code kad.*} name in the environment's enumerable
 * property sources that no kad property binds, with the closest known name when one is close: a
 * misspelt {@code kad.bootstap} would otherwise leave a node alone in a network of one, reporting
 * UP. The known names are those of the configuration metadata on the class path ({@code
 * META-INF/spring-configuration-metadata.json}, which Spring Boot's configuration processor writes
 * from {@link KadProperties}, and {@code additional-spring-configuration-metadata.json}), so an
 * application's own documented {@code kad.*} keys count too; map and list properties ({@code
 * kad.metrics.tags.*}, {@code kad.bootstrap[0]}) take any entry. Names are compared as Spring Boot
 * binds them ({@link ConfigurationPropertyName}): {@code kad.maxValueBytes}, {@code
 * kad.max_value_bytes} and {@code KAD_MAX_VALUE_BYTES} are {@code kad.max-value-bytes}. An
 * environment variable is warned of only when a known name is close to it: the environment is
 * shared with every other program, and feeds placeholders ({@code ${KAD_TLS_PASSWORD}}).
 *
 * <p>It is a bean factory post-processor so that it runs before any bean is created: a kad property
 * that fails to bind ({@code kad.port=99999}) stops the start while {@link KadProperties} binds,
 * and the typo beside it would otherwise be told only on the next start.
 */
final class UnknownKadProperties implements BeanFactoryPostProcessor, EnvironmentAware {

  /** The metadata files read, every copy on the class path. */
  static final List<String> METADATA =
      List.of(
          "META-INF/spring-configuration-metadata.json",
          "META-INF/additional-spring-configuration-metadata.json");

  private static final Logger log = LoggerFactory.getLogger(UnknownKadProperties.class);

  private static final ConfigurationPropertyName KAD = ConfigurationPropertyName.of("kad");

  /** A name the starter binds, which the metadata lacks only when it was not read at all. */
  private static final String ANCHOR = "kad.enabled";

  // Set by the container before postProcessBeanFactory: a post-processor is created before
  // autowiring, so it cannot take the environment through its constructor.
  private Environment environment;

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = Objects.requireNonNull(environment, "environment");
  }

  @Override
  public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
    if (!(environment instanceof ConfigurableEnvironment configurable)) {
      return;
    }
    KnownNames known = KnownNames.load(getClass().getClassLoader());
    if (!known.contains(ANCHOR, '.')) {
      // Metadata dropped (a repackaged jar): every name would look unknown.
      log.debug("kad property names not checked: no configuration metadata names {}", ANCHOR);
      return;
    }
    for (String warning : warnings(configurable, known)) {
      log.warn(warning);
    }
  }

  /** One warning per unknown {@code kad.*} name, in the order of the property sources. */
  static List<String> warnings(ConfigurableEnvironment environment, KnownNames known) {
    Map<ConfigurationPropertyName, String> warnings = new LinkedHashMap<>();
    for (PropertySource<?> source : environment.getPropertySources()) {
      if (!(source instanceof EnumerablePropertySource<?> enumerable)) {
        continue;
      }
      boolean env = source instanceof SystemEnvironmentPropertySource;
      char separator = env ? '_' : '.';
      for (String raw : enumerable.getPropertyNames()) {
        if (!raw.regionMatches(true, 0, "kad" + separator, 0, 4)) {
          continue;
        }
        ConfigurationPropertyName name = adapt(raw, separator);
        if (name == null || !KAD.isAncestorOf(name) || known.contains(name)) {
          continue;
        }
        Optional<String> closest = known.closest(name, env);
        if (env && closest.isEmpty()) {
          // The environment is every program's, and a placeholder's (${KAD_TLS_PASSWORD} in an
          // SSL bundle): only a near miss of a kad name is likely meant for the starter.
          continue;
        }
        warnings.computeIfAbsent(
            name,
            n ->
                raw
                    + " is not a kad property"
                    + closest.map(c -> " (did you mean " + c + "?)").orElse("")
                    + "; it is ignored");
      }
    }
    return List.copyOf(warnings.values());
  }

  private static ConfigurationPropertyName adapt(String raw, char separator) {
    try {
      ConfigurationPropertyName name = ConfigurationPropertyName.adapt(raw, separator);
      return name.isEmpty() ? null : name;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The {@code kad.*} property names the configuration metadata on the class path documents. */
  static final class KnownNames {

    private final List<Known> names;

    private KnownNames(List<Known> names) {
      this.names = List.copyOf(names);
    }

    /**
     * Reads every copy of the metadata files that {@code loader} finds; a file that cannot be read
     * is skipped.
     */
    static KnownNames load(ClassLoader loader) {
      ObjectMapper json = new ObjectMapper();
      // By name, so that suggestions do not depend on the order of the class path.
      Map<String, Boolean> found = new TreeMap<>();
      for (String file : METADATA) {
        Enumeration<URL> urls;
        try {
          urls = loader.getResources(file);
        } catch (IOException e) {
          log.debug("could not list {}: {}", file, e.toString());
          continue;
        }
        while (urls.hasMoreElements()) {
          URL url = urls.nextElement();
          try (InputStream in = url.openStream()) {
            for (JsonNode property : json.readTree(in).path("properties")) {
              String name = property.path("name").asText("");
              if (name.startsWith("kad.") && ConfigurationPropertyName.isValid(name)) {
                found.merge(name, container(property.path("type").asText("")), Boolean::logicalOr);
              }
            }
          } catch (IOException | RuntimeException e) {
            log.debug("could not read {}: {}", url, e.toString());
          }
        }
      }
      List<Known> names = new ArrayList<>();
      found.forEach((name, container) -> names.add(Known.of(name, container)));
      return new KnownNames(names);
    }

    /** Whether a property of this type takes entries below its name: a map, list, set or array. */
    private static boolean container(String type) {
      return type.endsWith("[]")
          || (type.startsWith("java.util.")
              && (type.contains("Map")
                  || type.contains("List")
                  || type.contains("Set")
                  || type.contains("Collection")));
    }

    /**
     * Whether a name, written with {@code separator} between its parts, is one a kad property
     * binds.
     */
    boolean contains(String raw, char separator) {
      ConfigurationPropertyName name = adapt(raw, separator);
      return name != null && contains(name);
    }

    boolean contains(ConfigurationPropertyName name) {
      return names.stream().anyMatch(k -> k.binds(name));
    }

    /**
     * The known name closest to {@code name}, when it is close: a few edits apart, ignoring case
     * and separators, with a map or list property's entry kept ({@code kad.metrics.tag.node} is
     * close to {@code kad.metrics.tags.node}).
     *
     * @param env whether to write it as an environment variable
     */
    Optional<String> closest(ConfigurationPropertyName name, boolean env) {
      record Candidate(int distance, String text) {}
      List<Candidate> candidates = new ArrayList<>();
      String whole = flat(name, 1, name.getNumberOfElements());
      for (Known k : names) {
        String known = flat(k.name(), 1, k.name().getNumberOfElements());
        int limit = Math.min(3, known.length() / 4);
        int d = distance(whole, known, limit);
        if (d <= limit) {
          candidates.add(new Candidate(d, write(k.name(), List.of(), env)));
        }
        if (k.container()) {
          // An entry: the name's first parts against the property, the rest kept as written.
          for (int end = 2; end < name.getNumberOfElements(); end++) {
            List<String> rest = new ArrayList<>();
            for (int i = end; i < name.getNumberOfElements(); i++) {
              rest.add(
                  name.isNumericIndex(i)
                      ? "[" + name.getElement(i, Form.ORIGINAL) + "]"
                      : name.getElement(i, Form.ORIGINAL));
            }
            int e = distance(flat(name, 1, end), known, limit);
            if (e <= limit) {
              candidates.add(new Candidate(e, write(k.name(), rest, env)));
            }
          }
        }
      }
      return candidates.stream()
          .min(Comparator.comparingInt(Candidate::distance))
          .map(Candidate::text);
    }

    /** The name's parts {@code from} to {@code to}, lower case, without separators. */
    private static String flat(ConfigurationPropertyName name, int from, int to) {
      StringBuilder b = new StringBuilder();
      for (int i = from; i < to; i++) {
        b.append(name.getElement(i, Form.UNIFORM).toLowerCase(Locale.ROOT));
      }
      return b.toString();
    }

    /** A known name and an entry below it, as a property or as an environment variable. */
    private static String write(ConfigurationPropertyName known, List<String> rest, boolean env) {
      StringBuilder b = new StringBuilder(known.toString());
      for (String part : rest) {
        if (!part.startsWith("[")) {
          b.append('.');
        }
        b.append(part);
      }
      if (!env) {
        return b.toString();
      }
      return b.toString().replace("]", "").replaceAll("[.\\-\\[]", "_").toUpperCase(Locale.ROOT);
    }

    /** Levenshtein distance, or {@code limit + 1} once it is sure to exceed {@code limit}. */
    private static int distance(String a, String b, int limit) {
      if (Math.abs(a.length() - b.length()) > limit) {
        return limit + 1;
      }
      int[] previous = new int[b.length() + 1];
      int[] current = new int[b.length() + 1];
      for (int j = 0; j <= b.length(); j++) {
        previous[j] = j;
      }
      for (int i = 1; i <= a.length(); i++) {
        current[0] = i;
        for (int j = 1; j <= b.length(); j++) {
          int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
          current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
        }
        int[] swap = previous;
        previous = current;
        current = swap;
      }
      return previous[b.length()];
    }
  }

  /**
   * A documented name, and its form as Spring Boot reads it from an environment variable with every
   * dash an underscore ({@code KAD_MAX_VALUE_BYTES} is {@code kad.max.value.bytes}).
   */
  private record Known(
      ConfigurationPropertyName name, ConfigurationPropertyName envName, boolean container) {

    static Known of(String name, boolean container) {
      return new Known(
          ConfigurationPropertyName.of(name),
          ConfigurationPropertyName.of(name.replace('-', '.')),
          container);
    }

    boolean binds(ConfigurationPropertyName n) {
      return name.equals(n)
          || envName.equals(n)
          || (container && (name.isAncestorOf(n) || envName.isAncestorOf(n)));
    }
  }
}
