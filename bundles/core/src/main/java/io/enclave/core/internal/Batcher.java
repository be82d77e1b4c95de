package io.enclave.core.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.BatchingSettings;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.NamedTensor;
import io.enclave.api.OverloadedException;

/**
 * One model version's queue and workers. A worker takes the oldest request, adds every compatible
 * request already queued (up to the batch size, and of text lengths close enough to share its padding:
 * {@link BatchingSettings#fits}), and waits for more, at most the configured delay, only
 * while callers are between arriving and queueing, or while another batch computes and this one holds
 * fewer rows than half the recent average batch (that batch's callers come back soon). A request that
 * finds the version idle runs on its caller's thread at once (unless that thread is a worker: see
 * {@link #submit(List, long)}). A queued request holds no thread of its caller's: its {@link Job#result}
 * completes on the worker that ran its batch, so what callers chain to it must not block.
 * A request's deadline counts from its arrival at the transport, and a caller may ask for a shorter one
 * (its own timeout); one whose deadline passed while queued is refused before it runs (at that moment,
 * when the caller set it), and a batch takes no more rows than its most urgent request leaves time for
 * (at the measured compute time per row), so what runs finishes close to its deadline even when
 * compute is slow. Workers are added while every worker computes and requests wait, and retire after a
 * minute idle, or after their batch when {@code maxWorkers} was lowered; at most {@code maxWorkers}
 * computations run at once, callers' included.
 *
 * <p>With priority levels, workers take the most urgent request first and a batch fills with the most
 * urgent that fit; a full queue gives the place of its least urgent request (refused, as a full queue
 * refuses) to a more urgent newcomer, so a backlog of bulk work cannot lock urgent callers out.
 */
final class Batcher {
    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);
    private static final long IDLE_RETIRE_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * How many waiting requests a batch looks through for one it can take: past a request it cannot
     * (too long a text beside its own, too many rows, other tensor sizes), bounded so that callers
     * never wait long for the queue's lock.
     */
    private static final int SCAN = 256;
    /** How often an idle worker looks whether it should retire. */
    private static final long IDLE_POLL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One waiting request. */
    static final class Job {
        private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Job> TAKEN =
                java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Job.class, "taken");

        final List<NamedTensor> inputs;
        final int rows;
        final long deadline;
        /** The caller's own timeout when it, not the version's deadline, set {@link #deadline}; else 0. */
        final long callerTimeoutNanos;
        /** What the caller named: 1 the most urgent, 0 none. */
        final long priority;
        /**
         * Its place among the priority levels: 0 (none kept) or 1 (the most urgent) upwards. Changed only
         * by the queue, under its lock, when the levels change.
         */
        int level;
        /** Its longest text in UTF-8 bytes, 0 without text: set before it queues. */
        int length;
        final long enqueued = System.nanoTime();
        final CompletableFuture<List<NamedTensor>> result = new CompletableFuture<>();
        volatile long started;
        volatile int batchSize;
        /**
         * What its batch did, set before its answer completes: the rows, and how long the batch took to join its
         * requests' inputs, to run the engine and to split the outputs. {@link #leads} is true for one request of
         * each batch, so that a batch is counted once.
         */
        volatile int batchRows;
        volatile long inputNanos;
        volatile long inferNanos;
        volatile long outputNanos;
        volatile boolean leads;
        /** 1 once a batch took it or its caller's timeout refused it: whichever comes first decides. */
        private volatile int taken;

        Job(List<NamedTensor> inputs, int rows, long deadline, long callerTimeoutNanos, long priority, int level) {
            this.inputs = inputs;
            this.rows = rows;
            this.deadline = deadline;
            this.callerTimeoutNanos = callerTimeoutNanos;
            this.priority = priority;
            this.level = level;
        }

        /** @return true for the one caller (a batch, or the timer of the caller's timeout) that gets this job */
        boolean take() {
            return taken == 0 && TAKEN.compareAndSet(this, 0, 1);
        }

        /** Why it was not started in time, naming the limit that applied to it. */
        OverloadedException late(String version, long deadlineMillis, int retryAfterSeconds) {
            return new OverloadedException(version + " could not start this request within "
                    + (callerTimeoutNanos > 0
                            ? "the timeout of " + TimeUnit.NANOSECONDS.toMicros(callerTimeoutNanos) + " µs it asked for"
                            : "its deadline of " + deadlineMillis + " ms"), retryAfterSeconds);
        }
    }

    /** A thread that computes batches; what its batches' callers chain to their answers runs on it too. */
    private static final class Worker extends Thread {
        Worker(Runnable work, String name) {
            super(work, name);
        }
    }

    private final String name;
    private final Function<List<NamedTensor>, List<NamedTensor>> engine;
    private final JobQueue queue = new JobQueue();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger arriving = new AtomicInteger();
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger threadIds = new AtomicInteger();
    /** Recent compute time per row, a moving average over batches; 0 until something ran. */
    private volatile long nanosPerRow;
    /** How far the per-row time strays from that average, a moving average of the absolute difference. */
    private volatile long nanosPerRowDeviation;
    /** Rows per batch, a moving average over batches, times 16 (so small averages keep their fraction). */
    private volatile int rowsPerBatch16;
    /** Rows per request, a moving average over batches, times 16. */
    private volatile int rowsPerRequest16;
    private volatile BatchingSettings settings;
    private volatile boolean closed;
    private final long idleRetireNanos;

    /**
     * @param engine runs one batch; called on a worker thread
     */
    Batcher(String name, BatchingSettings settings, Function<List<NamedTensor>, List<NamedTensor>> engine) {
        this(name, settings, engine, IDLE_RETIRE_NANOS);
    }

    /** @param idleRetireNanos how long a worker above {@code minWorkers} stays without work */
    Batcher(String name, BatchingSettings settings, Function<List<NamedTensor>, List<NamedTensor>> engine,
            long idleRetireNanos) {
        this.idleRetireNanos = idleRetireNanos;
        this.name = name;
        this.settings = settings;
        this.engine = engine;
        for (int i = 0; i < settings.minWorkers(); i++) {
            startWorker();
        }
    }

    BatchingSettings settings() {
        return settings;
    }

    /** Applies to the next batch; workers come and go to fit the new bounds. */
    void reconfigure(BatchingSettings next) {
        BatchingSettings before = settings;
        settings = next;
        if (before.priorityLevels() != next.priorityLevels() || before.defaultPriorityLevel() != next.defaultPriorityLevel()) {
            // what waits takes its place under the new levels: none stranded behind later arrivals
            queue.relevel(next);
        }
        while (workers.get() < next.minWorkers()) {
            startWorker();
        }
        growIfWaiting();
    }

    int queueDepth() {
        return queued.get();
    }

    /** @return the request a worker would take next, still in the queue; null when none is */
    Job nextWaiting() {
        return queue.peek();
    }

    int workers() {
        return workers.get();
    }

    int busy() {
        return busy.get();
    }

    /** @return the recent compute time per row in nanoseconds, 0 before the first batch */
    long nanosPerRow() {
        return nanosPerRow;
    }

    /**
     * When a refused caller may find room: the time the requests now waiting take at the recent pace
     * (their recent rows each, at the recent time per row, over the workers), in the whole seconds
     * {@code Retry-After} counts. At least 1, and at most the deadline: a request that would wait
     * longer than that is dropped anyway. 1 before anything ran.
     */
    int retryAfterSeconds() {
        long perRow = nanosPerRow;
        long atMost = Math.max(1, TimeUnit.MILLISECONDS.toSeconds(settings.deadlineMillis() + 999));
        if (perRow == 0) {
            return 1;
        }
        double rows = queued.get() * Math.max(16, rowsPerRequest16) / 16.0;
        double seconds = rows * perRow / Math.max(1, workers.get()) / 1e9;
        return (int) Math.max(1, Math.min(atMost, (long) Math.ceil(seconds)));
    }

    /** @return how many rows a batch waits for while another batch computes: half the recent average */
    int floor() {
        return rowsPerBatch16 / 32;
    }

    /** Queues a request that arrives now. */
    Job submit(List<NamedTensor> inputs) {
        return submit(inputs, System.nanoTime());
    }

    /** Queues a request with no timeout of its own. */
    Job submit(List<NamedTensor> inputs, long arrivedNanos) {
        return submit(inputs, arrivedNanos, 0, 0);
    }

    /** Queues a request that names no priority. */
    Job submit(List<NamedTensor> inputs, long arrivedNanos, long timeoutNanos) {
        return submit(inputs, arrivedNanos, timeoutNanos, 0);
    }

    /**
     * Queues a request.
     *
     * @param arrivedNanos when the request reached the transport ({@link System#nanoTime()}): its
     *                     deadline counts from then
     * @param timeoutNanos the caller's own limit, from then; 0 for none. The shorter of it and the
     *                     version's deadline applies
     * @param priority     the caller's priority (1 the most urgent, 0 none), placed by {@link BatchingSettings#level}
     * @return its future result
     * @throws OverloadedException when the queue is full of requests at least as urgent
     */
    Job submit(List<NamedTensor> inputs, long arrivedNanos, long timeoutNanos, long priority) {
        BatchingSettings s = settings;
        if (closed) {
            throw new ModelUnavailableException(name + " is being removed");
        }
        int rows = Tensors.rows(inputs);
        long limit = TimeUnit.MILLISECONDS.toNanos(s.deadlineMillis());
        boolean callers = timeoutNanos > 0 && timeoutNanos < limit;
        Job job = new Job(inputs, rows, arrivedNanos + (callers ? timeoutNanos : limit), callers ? timeoutNanos : 0,
                priority, s.level(priority));
        // an idle version (nothing queued, nothing computing) runs a lone request on the caller's
        // thread: no hand-off, no wait. A busy one queues it, so it can join the next batch.
        // A worker never does: it may be finishing its own batch's callers (a fallback, say), and the
        // rest of that batch waits for it.
        if (!(Thread.currentThread() instanceof Worker) && queued.get() == 0 && busy.get() == 0
                && busy.compareAndSet(0, 1)) {
            try {
                run(List.of(job));
            } finally {
                busy.decrementAndGet();
            }
            return job;
        }
        job.length = Tensors.longestText(inputs);
        arriving.incrementAndGet();
        try {
            if (queued.incrementAndGet() > s.queueCapacity()) {
                queued.decrementAndGet();
                Job displaced = queue.pollLessUrgentThan(job.level);
                if (displaced == null) {
                    throw new OverloadedException(name + " is overloaded: " + s.queueCapacity() + " requests are already "
                            + "waiting", retryAfterSeconds());
                }
                // its place in the count passes to the newcomer; its caller hears what a full queue says
                if (displaced.take()) {
                    displaced.result.completeExceptionally(new OverloadedException(name + " is overloaded: "
                            + s.queueCapacity() + " requests are waiting, and a more urgent one took this one's place",
                            retryAfterSeconds()));
                }
            }
            queue.add(job);
        } finally {
            arriving.decrementAndGet();
        }
        if (job.callerTimeoutNanos > 0) {
            // the caller said how long it waits: it hears at that moment, not when a worker reaches it
            // behind a backlog. The version's own deadline is checked as workers reach requests, so the
            // usual request costs no timer. The timer runs on the JDK's one delay thread (no thread of
            // ours, nothing to stop) and holds the job weakly: a request answered long before its
            // timeout does not keep its inputs in memory until then
            java.lang.ref.WeakReference<Job> pending = new java.lang.ref.WeakReference<>(job);
            CompletableFuture.delayedExecutor(Math.max(0, job.deadline - System.nanoTime()) + 1, TimeUnit.NANOSECONDS,
                    Runnable::run).execute(() -> {
                        Job j = pending.get();
                        if (j != null) {
                            expire(j);
                        }
                    });
        }
        growIfWaiting();
        return job;
    }

    /** The caller's timeout passed: refused now, and out of the queue, unless a batch took it first. */
    private void expire(Job job) {
        if (job.take()) {
            if (queue.remove(job)) {
                queued.decrementAndGet();
            }
            job.result.completeExceptionally(job.late(name, settings.deadlineMillis(), retryAfterSeconds()));
        }
    }

    /**
     * Every worker is computing and requests wait: one more worker, so the next batch gathers while the
     * current ones run. Looked at when a request queues, when a worker starts a batch and when the
     * bounds change, so a burst that queued faster than the workers took it, or a backlog under a raised
     * {@code maxWorkers}, still gets its workers.
     */
    private void growIfWaiting() {
        if (queued.get() > 0 && busy.get() >= workers.get() && workers.get() < settings.maxWorkers()) {
            startWorker();
        }
    }

    /** Takes one of the {@code maxWorkers} places for a computation, if one is free. */
    private boolean claim(BatchingSettings s) {
        for (int b = busy.get(); b < s.maxWorkers(); b = busy.get()) {
            if (busy.compareAndSet(b, b + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Waits, at most {@code millis}, until nothing is queued or running. */
    void drain(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while ((queued.get() > 0 || busy.get() > 0) && System.nanoTime() < end && workers.get() > 0) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Fails every queued request: the version is going away. */
    void close() {
        closed = true;
        for (Job j : queue.drain()) {
            queued.decrementAndGet();
            j.result.completeExceptionally(new ModelUnavailableException(name + " was removed before this request ran"));
        }
    }

    private void startWorker() {
        if (workers.incrementAndGet() > Math.max(1, settings.maxWorkers())) {
            workers.decrementAndGet();
            return;
        }
        Thread t = new Worker(this::work, "enclave-worker-" + name + "-" + threadIds.incrementAndGet());
        t.setDaemon(true);
        t.start();
    }

    private void work() {
        long idleSince = System.nanoTime();
        try {
            while (!closed) {
                // a lowered maxWorkers: one worker too many leaves between batches, backlog or not
                if (workers.get() > settings.maxWorkers() && retire()) {
                    return;
                }
                Job first;
                try {
                    first = queue.poll(Math.min(IDLE_POLL_NANOS, idleRetireNanos));
                } catch (InterruptedException e) {
                    return;
                }
                if (first == null) {
                    if (System.nanoTime() - idleSince > idleRetireNanos && retire()) {
                        return;
                    }
                    continue;
                }
                // callers running alone count against maxWorkers too; until this job has a place it
                // still counts as waiting (for the queue's capacity, and so no caller overtakes it)
                while (!claim(settings)) {
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                }
                if (settings.priorityLevels() > 0) {
                    // a more urgent request that came while this one waited for a place goes first
                    first = queue.mostUrgent(first);
                }
                queued.decrementAndGet();
                try {
                    List<Job> batch = gather(first);
                    growIfWaiting();
                    run(batch);
                } finally {
                    busy.decrementAndGet();
                }
                idleSince = System.nanoTime();
            }
        } catch (RuntimeException | Error e) {
            LOG.error("worker for {} stopped: {}", name, e.toString(), e);
            workers.decrementAndGet();
            if (!closed) {
                startWorker();
            }
            return;
        }
        workers.decrementAndGet();
    }

    private boolean retire() {
        int n = workers.get();
        return n > settings.minWorkers() && workers.compareAndSet(n, n - 1);
    }

    /** The first request plus compatible ones already queued, and more while they are on their way. */
    private List<Job> gather(Job first) {
        List<Job> batch = new ArrayList<>();
        batch.add(first);
        BatchingSettings s = settings;
        if (first.rows < 0 || s.maxBatchSize() <= 1) {
            return batch;
        }
        int rows = first.rows;
        // the most urgent request in the batch bounds how many rows it may take: a batch that cannot
        // finish before then would only make its requests late (rows left out wait for the next one).
        // Planned high, at the average plus four times its recent spread (as TCP sets its retransmission
        // timer), so a batch sized to end at a deadline is not late whenever compute runs a bit slow.
        long perRow = nanosPerRow == 0 ? 0 : nanosPerRow + 4 * nanosPerRowDeviation;
        long due = first.deadline;
        long waitUntil = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(s.maxQueueDelayMicros());
        // while another batch computes, its callers come back soon after it ends, so a batch this small
        // waits (at most the delay) for more: half the recent average. A batch that starts smaller
        // leaves the rows that arrive just after it to a batch of their own, and on a busy server
        // every batch then runs small (the engine does fewer rows per second in small batches)
        int floor = floor();
        int shortest = first.length;
        int longest = first.length;
        while (rows < s.maxBatchSize()) {
            if (queue.isEmpty()) {
                // wait (at most the delay) only while more is on its way: callers between arriving and
                // queueing, or, while this batch is below that floor, another batch's callers. A
                // version with nothing else going on never holds a request.
                boolean comingNow = arriving.get() > 0;
                if ((!comingNow && (busy.get() <= 1 || rows >= floor)) || System.nanoTime() >= waitUntil) {
                    break;
                }
                if (comingNow) {
                    // a caller is microseconds from the queue
                    Thread.onSpinWait();
                } else {
                    // another batch computes, for milliseconds: spinning would take a core from it
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                }
                continue;
            }
            int room = s.maxBatchSize() - rows;
            int taken = rows;
            int low = shortest;
            int high = longest;
            long start = System.nanoTime();
            long by = due;
            Job next = queue.pollFitting(j -> j.rows >= 0 && j.rows <= room && s.fits(low, high, j.length)
                    && Tensors.compatible(first.inputs, j.inputs)
                    && (perRow == 0 || start + (taken + j.rows) * perRow <= Math.min(by, j.deadline)), SCAN);
            if (next == null) {
                // what waits is for another batch: this one starts now
                break;
            }
            queued.decrementAndGet();
            batch.add(next);
            rows += next.rows;
            due = Math.min(due, next.deadline);
            shortest = Math.min(shortest, next.length);
            longest = Math.max(longest, next.length);
        }
        return batch;
    }

    private void run(List<Job> batch) {
        long now = System.nanoTime();
        List<Job> live = new ArrayList<>(batch.size());
        for (Job j : batch) {
            if (j.result.isDone() || !j.take()) {
                continue;
            }
            if (now > j.deadline) {
                j.result.completeExceptionally(j.late(name, settings.deadlineMillis(), retryAfterSeconds()));
            } else {
                live.add(j);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        int rows = 0;
        for (Job j : live) {
            j.started = now;
            j.batchSize = live.size();
            rows += Math.max(0, j.rows);
        }
        try {
            if (live.size() == 1) {
                List<NamedTensor> out = engine.apply(live.get(0).inputs);
                long computedAt = System.nanoTime();
                measured(now, rows, 1);
                stages(live, rows, 0, computedAt - now, 0);
                live.get(0).result.complete(out);
                return;
            }
            List<List<NamedTensor>> inputs = new ArrayList<>(live.size());
            int[] counts = new int[live.size()];
            for (int i = 0; i < live.size(); i++) {
                inputs.add(live.get(i).inputs);
                counts[i] = live.get(i).rows;
            }
            List<NamedTensor> joined = Tensors.concat(inputs);
            long joinedAt = System.nanoTime();
            List<NamedTensor> out = engine.apply(joined);
            long computedAt = System.nanoTime();
            measured(now, rows, live.size());
            List<List<NamedTensor>> outputs = Tensors.split(out, counts);
            stages(live, rows, joinedAt - now, computedAt - joinedAt, System.nanoTime() - computedAt);
            for (int i = 0; i < live.size(); i++) {
                live.get(i).result.complete(outputs.get(i));
            }
        } catch (RuntimeException | Error e) {
            for (Job j : live) {
                j.result.completeExceptionally(e);
            }
        }
        if (rows == 0) {
            LOG.trace("empty batch for {}", name);
        }
    }

    /**
     * Tells each request of a batch what the batch did, before any of them is answered. The batch is counted with
     * the first that is still to be answered: one whose caller's timeout ended it meanwhile is answered no more.
     */
    private static void stages(List<Job> live, int rows, long input, long infer, long output) {
        boolean led = false;
        for (Job j : live) {
            j.batchRows = rows;
            j.inputNanos = input;
            j.inferNanos = infer;
            j.outputNanos = output;
            if (!led && !j.result.isDone()) {
                j.leads = true;
                led = true;
            }
        }
    }

    /**
     * Folds one batch's compute time into the per-row average, and its rows into the per-batch and
     * per-request ones (weight 1/8: follows load within a few batches).
     */
    private void measured(long started, int rows, int requests) {
        if (rows <= 0) {
            return;
        }
        int r16 = rowsPerBatch16;
        rowsPerBatch16 = r16 == 0 ? rows * 16 : r16 + (rows * 16 - r16) / 8;
        int q16 = rowsPerRequest16;
        int sampleQ16 = rows * 16 / requests;
        rowsPerRequest16 = q16 == 0 ? sampleQ16 : q16 + (sampleQ16 - q16) / 8;
        long sample = (System.nanoTime() - started) / rows;
        long prev = nanosPerRow;
        // a lost update between two workers only drops one sample
        if (prev == 0) {
            nanosPerRow = sample;
            nanosPerRowDeviation = sample / 2;
        } else {
            nanosPerRow = prev + (sample - prev) / 8;
            nanosPerRowDeviation += (Math.abs(sample - prev) - nanosPerRowDeviation) / 4;
        }
    }
}
