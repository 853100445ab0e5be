package dev.kad.transport.tcp;

import dev.kad.testkit.NettyLeaks;
import java.lang.reflect.AnnotatedElement;
import java.util.Optional;
import net.jqwik.api.lifecycle.AfterContainerHook;
import net.jqwik.api.lifecycle.ContainerLifecycleContext;
import net.jqwik.api.lifecycle.PropagationMode;

/**
 * The leak check of {@link NettyLeaks} after each jqwik properties class: jqwik runs them in its
 * own engine, after Jupiter's classes, where no Jupiter extension sees them. Registered globally in
 * {@code META-INF/services/net.jqwik.api.lifecycle.LifecycleHook}.
 */
public final class NettyLeaksJqwikHook implements AfterContainerHook {

  /** Created by jqwik's service loader. */
  public NettyLeaksJqwikHook() {}

  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS;
  }

  @Override
  public boolean appliesTo(Optional<AnnotatedElement> element) {
    return element.map(e -> e instanceof Class).orElse(false);
  }

  @Override
  public void afterContainer(ContainerLifecycleContext context) {
    NettyLeaks.assertNone(context.label());
  }
}
