package dev.kad.bench;

import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A virtual clock for large simulations: the same contract as reactor-test's {@code
 * VirtualTimeScheduler} (tasks run on the thread that advances time, in order of due time and then
 * of scheduling; a task scheduled while nothing runs and already due runs at once), but cancelling
 * a task costs O(log n) instead of a linear scan of the queue.
 *
 * <p>Why: {@code VirtualTimeScheduler} keeps its tasks in a {@code PriorityBlockingQueue} and a
 * cancelled task removes itself with {@code queue.remove(task)}, a linear scan. Every RPC of the
 * engine cancels three timers when it is answered (the transport's request timeout, the node's hard
 * timeout, the lookup's soft timeout), and with maintenance on every node keeps five periodic jobs
 * queued, so at 5,000 nodes each answered RPC scans 25,000+ entries. Here the queue is a binary
 * heap whose tasks know their slot, so a cancelled task leaves it at once. Leaving it matters as
 * much as the time: a timer left in the queue until it is due keeps the whole cancelled operator
 * chain of its RPC reachable for seconds of virtual time, which the garbage collector then copies
 * again and again.
 *
 * <p>Not thread-safe: one thread schedules, advances and runs everything (as the simulation does);
 * tasks must not block.
 */
final class SimScheduler implements Scheduler {

  /** Bounds one {@link #await} in tasks run, against a task that reschedules itself forever. */
  private static final long MAX_TASKS_PER_AWAIT = 2_000_000_000L;

  private final TaskHeap queue = new TaskHeap();
  private long nanoTime;
  private long sequence;
  private boolean draining;
  private boolean disposed;
  private long tasksRun;

  /** The virtual time in nanoseconds since the start. */
  long nanos() {
    return nanoTime;
  }

  /** How many tasks ran so far (cancelled ones not counted). */
  long tasksRun() {
    return tasksRun;
  }

  /** How many tasks are queued. */
  int queued() {
    return queue.size();
  }

  @Override
  public long now(TimeUnit unit) {
    return unit.convert(nanoTime, TimeUnit.NANOSECONDS);
  }

  @Override
  public Disposable schedule(Runnable task) {
    return schedule(task, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
    Task t = enqueue(task, nanoTime + Math.max(0, unit.toNanos(delay)), null);
    drainDue();
    return t;
  }

  @Override
  public Disposable schedulePeriodically(
      Runnable task, long initialDelay, long period, TimeUnit unit) {
    return startPeriodic(task, initialDelay, period, unit, null);
  }

  private Periodic startPeriodic(
      Runnable task, long initialDelay, long period, TimeUnit unit, SimWorker worker) {
    Periodic periodic = new Periodic(task, unit.toNanos(period), worker);
    periodic.next(nanoTime + Math.max(0, unit.toNanos(initialDelay)));
    drainDue();
    return periodic;
  }

  @Override
  public Worker createWorker() {
    return new SimWorker();
  }

  @Override
  public void dispose() {
    disposed = true;
    queue.clear();
  }

  @Override
  public boolean isDisposed() {
    return disposed;
  }

  /** Moves the clock forward by {@code duration}, running every task due until then. */
  void advanceBy(Duration duration) {
    runUntil(nanoTime + duration.toNanos());
  }

  /**
   * Subscribes to {@code mono} and runs tasks in time order until it terminates.
   *
   * @return the value, or null when the {@code Mono} completed empty
   * @throws IllegalStateException when {@code limit} of virtual time passes first, or nothing is
   *     left to run
   */
  <T> T await(Mono<T> mono, Duration limit) {
    CompletableFuture<T> future = mono.toFuture();
    long deadline = nanoTime + limit.toNanos();
    long budget = MAX_TASKS_PER_AWAIT;
    while (!future.isDone() && budget-- > 0) {
      Task next = queue.peek();
      if (next == null || next.time > deadline) {
        break;
      }
      runOne();
    }
    return VirtualTime.resultOf(future, limit);
  }

  private void runUntil(long target) {
    if (draining) {
      throw new IllegalStateException("time cannot be advanced from inside a task");
    }
    while (true) {
      Task next = queue.peek();
      if (next == null || next.time > target) {
        break;
      }
      runOne();
    }
    nanoTime = Math.max(nanoTime, target);
  }

  private void runOne() {
    Task task = queue.poll();
    nanoTime = Math.max(nanoTime, task.time);
    run(task);
  }

  private void drainDue() {
    if (draining) {
      return;
    }
    while (true) {
      Task next = queue.peek();
      if (next == null || next.time > nanoTime) {
        return;
      }
      queue.poll();
      run(next);
    }
  }

  private void run(Task task) {
    if (task.cancelled || (task.worker != null && task.worker.disposed)) {
      return;
    }
    boolean outer = !draining;
    draining = true;
    try {
      tasksRun++;
      task.cancelled = true;
      task.action.run();
    } finally {
      if (outer) {
        draining = false;
      }
    }
  }

  private Task enqueue(Runnable action, long time, SimWorker worker) {
    if (disposed) {
      throw new RejectedExecutionException("scheduler disposed");
    }
    Task task = new Task(action, time, sequence++, worker);
    queue.add(task);
    return task;
  }

  /** One queued run; ordered by due time, then by scheduling order. */
  private final class Task implements Disposable {
    final Runnable action;
    final long time;
    final long seq;
    final SimWorker worker;
    boolean cancelled;

    /** The task's slot in the heap, -1 once it left the heap. */
    int slot = -1;

    Task(Runnable action, long time, long seq, SimWorker worker) {
      this.action = action;
      this.time = time;
      this.seq = seq;
      this.worker = worker;
    }

    @Override
    public void dispose() {
      if (!cancelled) {
        cancelled = true;
        queue.remove(this);
      }
    }

    @Override
    public boolean isDisposed() {
      return cancelled;
    }
  }

  /**
   * A binary min-heap of tasks in run order. Each task knows its slot, so removing a cancelled one
   * costs O(log n) and no scan.
   */
  private static final class TaskHeap {
    // Run order (time, then seq) is kept beside the tasks, so sifting compares array entries
    // instead of reading the tasks, which lie all over a large heap (a sift read two per level).
    private Task[] heap = new Task[1024];
    private long[] times = new long[1024];
    private long[] seqs = new long[1024];
    private int size;

    int size() {
      return size;
    }

    Task peek() {
      return size == 0 ? null : heap[0];
    }

    void add(Task task) {
      if (size == heap.length) {
        heap = Arrays.copyOf(heap, size * 2);
        times = Arrays.copyOf(times, size * 2);
        seqs = Arrays.copyOf(seqs, size * 2);
      }
      siftUp(size++, task);
    }

    Task poll() {
      if (size == 0) {
        return null;
      }
      Task head = heap[0];
      removeAt(0);
      return head;
    }

    /** Removes {@code task} if it is still queued. */
    void remove(Task task) {
      if (task.slot >= 0) {
        removeAt(task.slot);
      }
    }

    void clear() {
      for (int i = 0; i < size; i++) {
        heap[i].slot = -1;
        heap[i] = null;
      }
      size = 0;
    }

    private void removeAt(int slot) {
      heap[slot].slot = -1;
      Task last = heap[--size];
      heap[size] = null;
      if (slot == size) {
        return;
      }
      // The last task fills the hole, then moves down or up to where it belongs.
      siftDown(slot, last);
      if (heap[slot] == last) {
        siftUp(slot, last);
      }
    }

    private void siftUp(int slot, Task task) {
      long time = task.time;
      long seq = task.seq;
      while (slot > 0) {
        int parent = (slot - 1) >>> 1;
        if (!before(time, seq, times[parent], seqs[parent])) {
          break;
        }
        move(parent, slot);
        slot = parent;
      }
      place(slot, task);
    }

    private void siftDown(int slot, Task task) {
      long time = task.time;
      long seq = task.seq;
      int half = size >>> 1;
      while (slot < half) {
        int child = 2 * slot + 1;
        int right = child + 1;
        if (right < size && before(times[right], seqs[right], times[child], seqs[child])) {
          child = right;
        }
        if (!before(times[child], seqs[child], time, seq)) {
          break;
        }
        move(child, slot);
        slot = child;
      }
      place(slot, task);
    }

    /** Whether the task at (time, seq) runs before the one at (otherTime, otherSeq). */
    private static boolean before(long time, long seq, long otherTime, long otherSeq) {
      return time != otherTime ? time < otherTime : seq < otherSeq;
    }

    private void move(int from, int to) {
      Task task = heap[from];
      heap[to] = task;
      times[to] = times[from];
      seqs[to] = seqs[from];
      task.slot = to;
    }

    private void place(int slot, Task task) {
      heap[slot] = task;
      times[slot] = task.time;
      seqs[slot] = task.seq;
      task.slot = slot;
    }
  }

  /**
   * A periodic task: re-queues itself at start + n * period until disposed, or until the worker
   * that scheduled it is disposed ({@code Flux.interval} cancels by disposing its worker).
   */
  private final class Periodic implements Disposable {
    private final Runnable action;
    private final long period;
    private final SimWorker worker;
    private Task current;
    private boolean stopped;

    Periodic(Runnable action, long period, SimWorker worker) {
      this.action = action;
      this.period = period;
      this.worker = worker;
    }

    void next(long at) {
      current =
          enqueue(
              () -> {
                if (!stopped) {
                  action.run();
                  if (!stopped && period > 0) {
                    next(at + period);
                  }
                }
              },
              at,
              worker);
    }

    @Override
    public void dispose() {
      stopped = true;
      if (current != null) {
        current.dispose();
      }
    }

    @Override
    public boolean isDisposed() {
      return stopped;
    }
  }

  /**
   * A worker: its tasks are skipped once it is disposed, and its periodic tasks leave the queue
   * then (a cancelled {@code Flux.interval} disposes its worker, not the periodic task: before, the
   * task went on re-queueing itself forever, keeping every killed node's jobs and their operator
   * chains alive for the rest of a churn run).
   */
  private final class SimWorker implements Worker {
    boolean disposed;
    private final List<Periodic> periodics = new ArrayList<>(1);

    @Override
    public Disposable schedule(Runnable task) {
      return schedule(task, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
      if (disposed) {
        throw new RejectedExecutionException("worker disposed");
      }
      Task t = enqueue(task, nanoTime + Math.max(0, unit.toNanos(delay)), this);
      drainDue();
      return t;
    }

    @Override
    public Disposable schedulePeriodically(
        Runnable task, long initialDelay, long period, TimeUnit unit) {
      if (disposed) {
        throw new RejectedExecutionException("worker disposed");
      }
      Periodic periodic = startPeriodic(task, initialDelay, period, unit, this);
      periodics.removeIf(Periodic::isDisposed);
      periodics.add(periodic);
      return periodic;
    }

    @Override
    public void dispose() {
      disposed = true;
      for (Periodic periodic : periodics) {
        periodic.dispose();
      }
      periodics.clear();
    }

    @Override
    public boolean isDisposed() {
      return disposed;
    }
  }
}
