package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./kad} launcher at the repository root, run by bash in a copy of the repository's
 * layout whose {@code mvn} and {@code java} are stand-ins that record their calls.
 */
class LauncherTest {

  @TempDir Path repo;

  /** The repository's launcher, copied into the stand-in repository. */
  private Path launcher() throws IOException {
    Path launcher = repo.resolve("kad");
    Files.copy(Path.of("..", "kad"), launcher);
    return launcher;
  }

  /** A stand-in for the built jar. */
  private Path jar(String content) throws IOException {
    Path jar = repo.resolve("examples/target/kad.jar");
    Files.createDirectories(jar.getParent());
    Files.writeString(jar, content);
    return jar;
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void buildsOnceWhenAFileOutsideTheJarIsNewerThanTheJar() throws Exception {
    Path launcher = launcher();
    Path jar = jar("jar");
    Instant now = Instant.now();
    Files.setLastModifiedTime(jar, FileTime.from(now.minusSeconds(3600)));
    // A newer source of a module the jar is not built from: Maven leaves the jar as it is.
    Path bench = repo.resolve("kad-bench/src/main/java/Bench.java");
    Files.createDirectories(bench.getParent());
    Files.writeString(bench, "class Bench {}");
    Files.setLastModifiedTime(bench, FileTime.from(now.minusSeconds(600)));
    Path builds = repo.resolve("builds.log");
    Path runs = repo.resolve("runs.log");
    Path bin = Files.createDirectories(repo.resolve("stand-ins/bin"));
    script(bin.resolve("mvn"), "echo \"$*\" >> '" + builds + "'");
    script(bin.resolve("java"), "echo \"$*\" >> '" + runs + "'");

    int first = run(launcher, bin);
    int second = run(launcher, bin);

    assertThat(first).isZero();
    assertThat(second).isZero();
    assertThat(Files.readAllLines(runs)).hasSize(2).allMatch(l -> l.endsWith(" --version"));
    assertThat(Files.readAllLines(builds))
        .as("mvn runs: the second launch finds the jar fresh")
        .hasSize(1);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aRebuildLeavesTheJarOfACommandStillRunningAsItWas() throws Exception {
    Path launcher = launcher();
    Path jar = jar("first build");
    Path source = repo.resolve("examples/src/main/java/Cli.java");
    Files.createDirectories(source.getParent());
    Files.writeString(source, "class Cli {}");
    Instant now = Instant.now();
    Files.setLastModifiedTime(source, FileTime.from(now.minusSeconds(3600)));
    Files.setLastModifiedTime(jar, FileTime.from(now.minusSeconds(600)));
    Path bin = Files.createDirectories(repo.resolve("stand-ins/bin"));
    // Maven writes the jar in place; a running JVM holds the file it opened, as a hard link does.
    script(bin.resolve("mvn"), "printf 'second build' > '" + jar + "'");
    Path held = repo.resolve("held");
    Files.createDirectories(held);
    script(bin.resolve("java"), "ln \"$2\" '" + held + "'/run-$(ls '" + held + "' | wc -l).jar");

    assertThat(run(launcher, bin)).isZero(); // a `kad node`, say, runs from the first build
    Files.setLastModifiedTime(source, FileTime.from(now)); // an edit: the next launch rebuilds
    assertThat(run(launcher, bin)).isZero();

    assertThat(Files.readString(held.resolve("run-0.jar")))
        .as("the jar the first command runs from")
        .isEqualTo("first build");
    assertThat(Files.readString(held.resolve("run-1.jar"))).isEqualTo("second build");
  }

  private static void script(Path path, String body) throws IOException {
    Files.writeString(path, "#!/usr/bin/env bash\n" + body + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static int run(Path launcher, Path bin) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(List.of("bash", launcher.toString(), "--version"))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("JAVA_HOME", bin.getParent().toString());
    Process process = pb.start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return process.exitValue();
  }
}
