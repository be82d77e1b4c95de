package io.enclave.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.enclave.api.BatchingSettings;
import io.enclave.api.DataType;
import io.enclave.api.NamedTensor;
import io.enclave.api.OverloadedException;

class BatcherTest {
    private final List<Integer> batches = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile CountDownLatch entered = new CountDownLatch(1);

    private final List<String> threads = new CopyOnWriteArrayList<>();
    /** Each batch's outputs, in the order the batches ran. */
    private final List<float[]> computed = new CopyOnWriteArrayList<>();
    /** Compute time the test engine spends per row, in ms. */
    private volatile long millisPerRow;

    /** Doubles x; records each batch's rows and thread; waits at the gate. */
    private List<NamedTensor> engine(List<NamedTensor> in) {
        threads.add(Thread.currentThread().getName());
        entered.countDown();
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (millisPerRow > 0) {
            try {
                Thread.sleep(millisPerRow * in.get(0).shape()[0]);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        float[] x = in.get(0).floats();
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = 2 * x[i];
        }
        batches.add((int) in.get(0).shape()[0]);
        computed.add(y);
        return List.of(new NamedTensor("y", DataType.FP32, in.get(0).shape(), y));
    }

    /**
     * The first caller finds the version idle and computes on its own thread, where the gate holds it.
     *
     * @return its answer, once the gate opens
     */
    private java.util.concurrent.CompletableFuture<List<NamedTensor>> callerHeldAtTheGate(Batcher b) throws Exception {
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> b.submit(row(0, 0)).result.join());
        assertTrue(entered.await(5, TimeUnit.SECONDS), "the caller reached the engine");
        return first;
    }

    /** Submits rows (i, sign × i) for i from {@code from} to {@code to}, in order. */
    private static List<Batcher.Job> submit(Batcher b, int from, int to, int sign) {
        List<Batcher.Job> jobs = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            jobs.add(b.submit(row(i, sign * i)));
        }
        return jobs;
    }

    /**
     * Waits for {@code jobs} to be answered.
     *
     * @return the first value of each row the engine ran, batch after batch: the order requests ran in
     */
    private List<Float> ranInOrder(List<Batcher.Job> jobs) throws Exception {
        for (Batcher.Job j : jobs) {
            j.result.get(5, TimeUnit.SECONDS);
        }
        List<Float> order = new ArrayList<>();
        for (float[] y : computed) {
            order.add(y[0] / 2);
        }
        return order;
    }

    private static List<NamedTensor> row(float a, float b) {
        return List.of(new NamedTensor("x", DataType.FP32, new long[] {1, 2}, new float[] {a, b}));
    }

    @Test
    void aLoneRequestIsNotHeldForTheBatchDelay() throws Exception {
        Batcher b = new Batcher("t", new BatchingSettings(32, 1_000_000, 100, 1, 1, 30_000), this::engine);
        try {
            Batcher.Job job = b.submit(row(1, 2));
            assertArrayEquals(new float[] {2, 4}, job.result.get(5, TimeUnit.SECONDS).get(0).floats());
            assertTrue(job.started - job.enqueued < TimeUnit.MILLISECONDS.toNanos(500),
                    "an idle version starts at once instead of waiting the 1 s delay");
            assertEquals(List.of(1), batches);
            assertEquals(List.of(Thread.currentThread().getName()), threads, "no hand-off to a worker when idle");
        } finally {
            b.close();
        }
    }

    @Test
    void requestsThatQueueWhileTheWorkerIsBusyRunTogetherAndGetTheirOwnRows() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(8, 0, 100, 1, 1, 30_000), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            List<Batcher.Job> jobs = submit(b, 1, 10, -1);
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            for (int i = 1; i <= 10; i++) {
                assertArrayEquals(new float[] {2 * i, -2 * i}, jobs.get(i - 1).result.get(5, TimeUnit.SECONDS).get(0).floats());
            }
            assertEquals(List.of(1, 8, 2), batches, "at most 8 rows a batch, in arrival order");
            assertEquals(8, jobs.get(0).batchSize);
            assertTrue(threads.get(1).startsWith("enclave-worker-t-"), "queued requests run on a worker: " + threads);
        } finally {
            b.close();
        }
    }

    @Test
    void workersAreAddedWhileRequestsWaitBehindBusyOnesUpToTheMostAndRetireWhenIdle() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 100, 1, 3, 30_000), this::engine,
                TimeUnit.MILLISECONDS.toNanos(300));
        try {
            assertEquals(1, b.workers(), "minWorkers from the start");
            // the caller's computation counts as one of the 3
            var first = callerHeldAtTheGate(b);
            List<Batcher.Job> jobs = submit(b, 1, 10, 1);
            // one worker more while requests wait behind busy ones, up to 3
            await(() -> b.busy() == 3 && b.workers() == 3);
            assertEquals(8, b.queueDepth(), "3 compute, the rest wait");
            Thread.sleep(100);
            assertEquals(3, b.busy(), "never more computations at once than maxWorkers, the caller's included");
            assertEquals(3, b.workers(), "never more workers than maxWorkers");
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            for (int i = 1; i <= 10; i++) {
                assertArrayEquals(new float[] {2 * i, 2 * i}, jobs.get(i - 1).result.get(5, TimeUnit.SECONDS).get(0).floats());
            }
            await(() -> b.workers() == 1);
            Thread.sleep(700);
            assertEquals(1, b.workers(), "idle workers retire down to minWorkers, and no further");
            assertArrayEquals(new float[] {4, 4}, b.submit(row(2, 2)).result.get(5, TimeUnit.SECONDS).get(0).floats());
        } finally {
            b.close();
        }
    }

    @Test
    void raisingMaxWorkersDuringABacklogStartsWorkersAndLoweringItRetiresThemBacklogOrNot() throws Exception {
        gate = new CountDownLatch(1);
        // the shipped idle time (a minute): what retires here retires because of the new bounds
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 100, 1, 1, 30_000), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            List<Batcher.Job> jobs = submit(b, 1, 4, 1);
            Thread.sleep(100);
            assertEquals(1, b.workers(), "maxWorkers 1: the backlog waits");
            assertEquals(4, b.queueDepth());
            // an operator raises the bound while nothing new arrives: the backlog gets its workers
            b.reconfigure(new BatchingSettings(1, 0, 100, 1, 3, 30_000));
            await(() -> b.busy() == 3 && b.workers() == 3);
            // and lowers it again while 30 more wait, each 30 ms of compute: the extra workers leave
            // after their batch, without waiting for the backlog to clear
            jobs.addAll(submit(b, 5, 34, 1));
            millisPerRow = 30;
            b.reconfigure(new BatchingSettings(1, 0, 100, 1, 1, 30_000));
            gate.countDown();
            await(() -> b.workers() == 1);
            assertTrue(b.queueDepth() > 10, "the backlog is still there: " + b.queueDepth());
            first.get(5, TimeUnit.SECONDS);
            for (int i = 0; i < jobs.size(); i++) {
                assertArrayEquals(new float[] {2 * (i + 1), 2 * (i + 1)}, jobs.get(i).result.get(5, TimeUnit.SECONDS).get(0).floats());
            }
            assertEquals(1, b.workers());
            b.reconfigure(new BatchingSettings(1, 0, 100, 2, 4, 30_000));
            assertEquals(2, b.workers(), "a higher minWorkers starts its workers at once");
        } finally {
            b.close();
        }
    }

    /** Each batch's texts, in the order the batches ran. */
    private final List<List<String>> textBatches = new CopyOnWriteArrayList<>();

    /** Answers each text with its length in bytes; records each batch's texts; waits at the gate. */
    private List<NamedTensor> textEngine(List<NamedTensor> in) {
        entered.countDown();
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        byte[][] texts = in.get(0).bytes();
        float[] lengths = new float[texts.length];
        for (int i = 0; i < texts.length; i++) {
            lengths[i] = texts[i].length;
        }
        textBatches.add(List.of(in.get(0).strings()));
        return List.of(new NamedTensor("length", DataType.FP32, new long[] {texts.length}, lengths));
    }

    /** A text of {@code bytes} bytes that names itself: "s1......". */
    private static String text(String name, int bytes) {
        return name + ".".repeat(bytes - name.length());
    }

    /** Queues texts of these lengths behind a caller held at the gate, lets it go and returns the batches after it. */
    private List<List<String>> batchesOfTexts(BatchingSettings settings, String[] names, int[] lengths) throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", settings, this::textEngine);
        try {
            var first = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> b.submit(List.of(NamedTensor.ofStrings("text", text("held", 60)))).result.join());
            assertTrue(entered.await(5, TimeUnit.SECONDS), "the caller reached the engine");
            List<Batcher.Job> jobs = new ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                jobs.add(b.submit(List.of(NamedTensor.ofStrings("text", text(names[i], lengths[i])))));
            }
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            for (int i = 0; i < jobs.size(); i++) {
                assertArrayEquals(new float[] {lengths[i]}, jobs.get(i).result.get(5, TimeUnit.SECONDS).get(0).floats(),
                        names[i] + " gets its own row back");
            }
            List<List<String>> named = new ArrayList<>();
            for (List<String> batch : textBatches.subList(1, textBatches.size())) {
                named.add(batch.stream().map(t -> t.substring(0, t.indexOf('.'))).toList());
            }
            return named;
        } finally {
            b.close();
        }
    }

    @Test
    void textsOfVeryDifferentLengthsRunInSeparateBatchesAndOneLeftOutLeadsTheNext() throws Exception {
        String[] names = {"s1", "l1", "s2", "s3", "l2", "s4", "m"};
        int[] lengths = {60, 600, 50, 64, 500, 20, 130};
        // the 20-byte text counts as 32, half of 64; 130 is more than twice 50, and 600 more than twice 130
        assertEquals(List.of(List.of("s1", "s2", "s3", "s4"), List.of("l1", "l2"), List.of("m")),
                batchesOfTexts(new BatchingSettings(32, 0, 100, 1, 1, 30_000), names, lengths),
                "each batch's longest text at most twice each of its texts; the oldest left out leads the next batch");
        textBatches.clear();
        entered = new CountDownLatch(1);
        assertEquals(List.of(List.of(names)),
                batchesOfTexts(new BatchingSettings(32, 0, 100, 1, 1, 30_000, 0, 0, 0), names, lengths),
                "maxPaddingRatio 0: every length in one batch, in order of arrival");
        textBatches.clear();
        entered = new CountDownLatch(1);
        assertEquals(List.of(List.of("s1"), List.of("l1"), List.of("s2"), List.of("s3"), List.of("l2"), List.of("s4"),
                List.of("m")), batchesOfTexts(new BatchingSettings(32, 0, 100, 1, 1, 30_000, 0, 0, 1), names,
                        lengths), "maxPaddingRatio 1: only equal lengths share a batch");
    }

    @Test
    void aFullQueueRefusesAtOnceAndAnExpiredRequestNeverRuns() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 2, 1, 1, 50), this::engine);
        try {
            var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> b.submit(row(1, 1)).result.join());
            entered.await(5, TimeUnit.SECONDS);
            Batcher.Job waiting1 = b.submit(row(2, 2));
            Batcher.Job waiting2 = b.submit(row(3, 3));
            OverloadedException full = assertThrows(OverloadedException.class, () -> b.submit(row(4, 4)));
            assertTrue(full.getMessage().contains("2 requests are already waiting"), full.getMessage());
            assertEquals(1, full.retryAfterSeconds());
            Thread.sleep(100);
            gate.countDown();
            running.get(5, TimeUnit.SECONDS);
            ExecutionException late = assertThrows(ExecutionException.class, () -> waiting1.result.get(5, TimeUnit.SECONDS));
            assertTrue(late.getCause() instanceof OverloadedException, late.toString());
            assertThrows(ExecutionException.class, () -> waiting2.result.get(5, TimeUnit.SECONDS));
            assertEquals(List.of(1), batches, "the expired requests were dropped before compute");
        } finally {
            b.close();
        }
    }

    @Test
    void retryAfterIsWhatTheWaitingRequestsTakeAtTheRecentPaceAndNoMoreThanTheDeadline() throws Exception {
        millisPerRow = 300;
        List<NamedTensor> twoRows = List.of(new NamedTensor("x", DataType.FP32, new long[] {2, 2}, new float[4]));
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 4, 1, 1, 30_000), this::engine);
        try {
            // idle: it runs on this thread, 2 rows in 0.6 s, and sets the pace
            b.submit(twoRows).result.get(5, TimeUnit.SECONDS);
            gate = new CountDownLatch(1);
            entered = new CountDownLatch(1);
            var held = java.util.concurrent.CompletableFuture.supplyAsync(() -> b.submit(twoRows).result.join());
            assertTrue(entered.await(5, TimeUnit.SECONDS), "the caller reached the engine");
            List<Batcher.Job> waiting = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                waiting.add(b.submit(twoRows));
            }
            OverloadedException full = assertThrows(OverloadedException.class, () -> b.submit(twoRows));
            // four requests of two rows at 0.3 s a row on one worker: 2.4 s, so come back in 3
            assertEquals(3, full.retryAfterSeconds(), full.getMessage());

            // never past the deadline: a request that would wait longer is dropped anyway
            b.reconfigure(new BatchingSettings(1, 0, 4, 1, 1, 1_000));
            assertEquals(1, assertThrows(OverloadedException.class, () -> b.submit(twoRows)).retryAfterSeconds());
            millisPerRow = 0;
            gate.countDown();
            held.get(5, TimeUnit.SECONDS);
            for (Batcher.Job j : waiting) {
                assertEquals(2, j.result.get(5, TimeUnit.SECONDS).get(0).shape()[0], "the refusals cost the waiting nothing");
            }
        } finally {
            b.close();
        }
    }

    @Test
    void withPriorityLevelsTheMostUrgentWaitingRequestRunsFirstAndEachLevelKeepsItsOrder() throws Exception {
        gate = new CountDownLatch(1);
        // three levels, default 2; one row a batch, so the order of batches is the order of requests
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 100, 1, 1, 30_000, 3, 2), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            long now = System.nanoTime();
            List<Batcher.Job> jobs = List.of(
                    b.submit(row(1, 0), now, 0, 3),   // bulk
                    b.submit(row(2, 0), now, 0, 0),   // names none: the default, 2
                    b.submit(row(3, 0), now, 0, 1),   // urgent
                    b.submit(row(4, 0), now, 0, 3),   // bulk
                    b.submit(row(5, 0), now, 0, 9),   // past the levels: the default, 2
                    b.submit(row(6, 0), now, 0, 1));  // urgent
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            List<Float> order = ranInOrder(jobs);
            assertEquals(List.of(0f, 3f, 6f, 2f, 5f, 1f, 4f), order, "urgent first, then the default level, then bulk; "
                    + "arrival order within each");
        } finally {
            b.close();
        }
    }

    @Test
    void levelsTurnedOffLivePutWhatWaitsBackInOrderOfArrival() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 100, 1, 1, 30_000, 2, 2), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            long now = System.nanoTime();
            Batcher.Job a = b.submit(row(1, 0), now, 0, 2);
            // the worker takes it and waits for the place the caller at the gate holds
            await(() -> b.nextWaiting() == null);
            List<Batcher.Job> jobs = List.of(a, b.submit(row(2, 0), now, 0, 2), b.submit(row(3, 0), now, 0, 1),
                    b.submit(row(4, 0), now, 0, 2));
            assertEquals(3f, b.nextWaiting().inputs.get(0).floats()[0], "with levels the urgent one is next");
            b.reconfigure(new BatchingSettings(1, 0, 100, 1, 1, 30_000));
            assertEquals(2f, b.nextWaiting().inputs.get(0).floats()[0], "without them, the one that came first");
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            List<Float> order = ranInOrder(jobs);
            assertEquals(List.of(0f, 1f, 2f, 3f, 4f), order);
        } finally {
            b.close();
        }
    }

    @Test
    void withoutPriorityLevelsAPriorityChangesNothing() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 100, 1, 1, 30_000), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            long now = System.nanoTime();
            List<Batcher.Job> jobs = List.of(b.submit(row(1, 0), now, 0, 3), b.submit(row(2, 0), now, 0, 1),
                    b.submit(row(3, 0), now, 0, 0));
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            List<Float> order = ranInOrder(jobs);
            assertEquals(List.of(0f, 1f, 2f, 3f), order, "order of arrival");
        } finally {
            b.close();
        }
    }

    @Test
    void aFullQueueGivesItsLeastUrgentPlaceToAMoreUrgentRequestAndRefusesTheRest() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(1, 0, 3, 1, 1, 30_000, 2, 2), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            long now = System.nanoTime();
            Batcher.Job bulk1 = b.submit(row(1, 0), now, 0, 2);
            // the worker takes it and waits for the place the caller at the gate holds
            await(() -> b.nextWaiting() == null);
            Batcher.Job bulk2 = b.submit(row(2, 0), now, 0, 2);
            Batcher.Job bulk3 = b.submit(row(3, 0), now, 0, 0);
            // full of bulk work: another bulk request is refused as before
            OverloadedException full = assertThrows(OverloadedException.class, () -> b.submit(row(4, 0), now, 0, 2));
            assertTrue(full.getMessage().contains("3 requests are already waiting"), full.getMessage());
            // an urgent one takes the place of the newest bulk request, which hears why at once
            Batcher.Job urgent = b.submit(row(5, 0), now, 0, 1);
            ExecutionException displaced = assertThrows(ExecutionException.class, () -> bulk3.result.get(5, TimeUnit.SECONDS));
            assertTrue(displaced.getCause() instanceof OverloadedException, displaced.toString());
            assertTrue(displaced.getCause().getMessage().contains("a more urgent one took this one's place"),
                    displaced.getCause().getMessage());
            assertEquals(1, ((OverloadedException) displaced.getCause()).retryAfterSeconds());
            assertEquals(3, b.queueDepth(), "still full: the place changed hands");
            Batcher.Job urgent2 = b.submit(row(6, 0), now, 0, 1);
            assertThrows(ExecutionException.class, () -> bulk2.result.get(5, TimeUnit.SECONDS));
            // what is left is urgent, or in the worker's hands: the next urgent one is refused
            OverloadedException still = assertThrows(OverloadedException.class, () -> b.submit(row(7, 0), now, 0, 1));
            assertTrue(still.getMessage().contains("3 requests are already waiting"), still.getMessage());
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            List<Float> order = ranInOrder(List.of(urgent, urgent2, bulk1));
            assertEquals(List.of(0f, 5f, 6f, 1f), order, "the caller at the gate, then the urgent ones, then the bulk "
                    + "request the worker held while it waited for a place; the displaced ones never ran");
            assertEquals(0, b.queueDepth());
        } finally {
            b.close();
        }
    }

    @Test
    void underManyCallersOfMixedPriorityEveryRequestEndsOnceWithItsOwnRowsAndNothingStaysCounted() throws Exception {
        // a small queue, so places are given up and refused; short timeouts, so some expire; levels switched on
        // and off meanwhile, so what waits is placed again; texts of 1 to 300 bytes beside each row, so
        // batches leave out what is too far from their lengths and later ones take it
        millisPerRow = 1;
        BatchingSettings levels = new BatchingSettings(8, 0, 16, 1, 2, 30_000, 3, 2);
        BatchingSettings none = new BatchingSettings(8, 0, 16, 1, 2, 30_000);
        Batcher b = new Batcher("t", levels, this::engine);
        List<Batcher.Job> jobs = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger refusedAtOnce = new java.util.concurrent.atomic.AtomicInteger();
        int callers = 6;
        int each = 400;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            List<java.util.concurrent.Future<?>> running = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int caller = c;
                running.add(pool.submit(() -> {
                    java.util.Random random = new java.util.Random(caller);
                    for (int i = 0; i < each; i++) {
                        long timeout = random.nextInt(4) == 0 ? TimeUnit.MICROSECONDS.toNanos(200) : 0;
                        try {
                            List<NamedTensor> inputs = List.of(row(caller * each + i, caller).get(0),
                                    NamedTensor.ofStrings("text", ".".repeat(1 + random.nextInt(300))));
                            Batcher.Job j = b.submit(inputs, System.nanoTime(), timeout, random.nextInt(5));
                            jobs.add(j);
                            if (i % 4 == 3) {
                                // paced as callers are: some wait for their answer before the next
                                j.result.handle((out, e) -> null).join();
                            }
                        } catch (OverloadedException e) {
                            refusedAtOnce.incrementAndGet();
                        }
                    }
                }));
            }
            for (int flip = 0; flip < 2000 && running.stream().anyMatch(f -> !f.isDone()); flip++) {
                b.reconfigure(flip % 2 == 0 ? none : levels);
                Thread.sleep(2);
            }
            for (var f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            int answered = 0;
            int refused = 0;
            for (Batcher.Job j : jobs) {
                try {
                    float[] x = j.inputs.get(0).floats();
                    assertArrayEquals(new float[] {2 * x[0], 2 * x[1]}, j.result.get(30, TimeUnit.SECONDS).get(0).floats(),
                            "each request gets its own row back");
                    answered++;
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof OverloadedException, e.toString());
                    refused++;
                }
            }
            assertEquals(callers * each, jobs.size() + refusedAtOnce.get(), "every call queued or was refused");
            long displaced = jobs.stream().filter(j -> j.result.isCompletedExceptionally()).map(j -> {
                try {
                    j.result.join();
                    return "";
                } catch (java.util.concurrent.CompletionException e) {
                    return e.getCause().getMessage();
                }
            }).filter(m -> m.contains("took this one's place")).count();
            System.out.printf("answered %d, refused later %d (displaced %d), at once %d%n", answered, refused, displaced,
                    refusedAtOnce.get());
            assertTrue(answered > 0, "some were answered: " + answered + ", " + refused + " refused later, "
                    + refusedAtOnce + " at once");
            await(() -> b.queueDepth() == 0 && b.busy() == 0);
            assertEquals(null, b.nextWaiting(), "nothing left in the queue");
            int rows = 0;
            for (int n : batches) {
                rows += n;
            }
            assertEquals(answered, rows, "no request ran twice, none ran that was refused");
        } finally {
            pool.shutdownNow();
            b.close();
        }
    }

    @Test
    void theDeadlineCountsFromArrivalNotFromQueueing() throws Exception {
        Batcher b = new Batcher("t", new BatchingSettings(32, 0, 100, 1, 1, 200), this::engine);
        try {
            // the request spent 300 ms in the transport before it got here: past its 200 ms deadline
            Batcher.Job late = b.submit(row(1, 1), System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(300));
            ExecutionException e = assertThrows(ExecutionException.class, () -> late.result.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof OverloadedException, e.toString());
            assertTrue(batches.isEmpty(), "never computed");
            assertArrayEquals(new float[] {2, 2}, b.submit(row(1, 1)).result.get(5, TimeUnit.SECONDS).get(0).floats());
        } finally {
            b.close();
        }
    }

    @Test
    void aCallersOwnTimeoutShorterThanTheDeadlineRefusesItAtThatMomentAndItNeverRuns() throws Exception {
        gate = new CountDownLatch(1);
        Batcher b = new Batcher("t", new BatchingSettings(8, 0, 100, 1, 1, 30_000), this::engine);
        try {
            var first = callerHeldAtTheGate(b);
            long now = System.nanoTime();
            Batcher.Job patient = b.submit(row(2, 2), now);
            Batcher.Job impatient = b.submit(row(1, 1), now, TimeUnit.MILLISECONDS.toNanos(50));
            // a timeout longer than the version's deadline changes nothing: the deadline still applies
            Batcher.Job generous = b.submit(row(3, 3), now, TimeUnit.HOURS.toNanos(1));
            // refused at its timeout while the worker is still busy, not when the worker reaches it
            ExecutionException e = assertThrows(ExecutionException.class, () -> impatient.result.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof OverloadedException, e.toString());
            assertTrue(e.getCause().getMessage().contains("within the timeout of 50000 µs it asked for"),
                    e.getCause().getMessage());
            assertTrue(System.nanoTime() - now >= TimeUnit.MILLISECONDS.toNanos(50), "not before its timeout");
            assertEquals(1, gate.getCount(), "the batch ahead of it still computes");
            assertEquals(2, b.queueDepth(), "it left the queue: its place is free for another request");
            assertTrue(batches.isEmpty(), "nothing but the caller at the gate has computed");
            gate.countDown();
            first.get(5, TimeUnit.SECONDS);
            assertArrayEquals(new float[] {4, 4}, patient.result.get(5, TimeUnit.SECONDS).get(0).floats());
            assertArrayEquals(new float[] {6, 6}, generous.result.get(5, TimeUnit.SECONDS).get(0).floats());
            assertEquals(List.of(1, 2), batches, "the timed-out request was dropped before compute, the others ran");
        } finally {
            b.close();
        }
    }

    @Test
    void aBatchTakesNoMoreRowsThanItsMostUrgentRequestHasTimeFor() throws Exception {
        millisPerRow = 20;
        long deadlineMs = 1000;
        Batcher b = new Batcher("t", new BatchingSettings(32, 0, 100, 1, 1, deadlineMs), this::engine);
        try {
            b.submit(row(0, 0)).result.get(5, TimeUnit.SECONDS);
            assertTrue(b.nanosPerRow() >= TimeUnit.MILLISECONDS.toNanos(20), "measured: " + b.nanosPerRow());
            gate = new CountDownLatch(1);
            entered = new CountDownLatch(1);
            var blocker = callerHeldAtTheGate(b);
            // twenty requests with 250 ms of their deadline left: 400 ms of compute together
            long arrived = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(deadlineMs - 250);
            List<Batcher.Job> jobs = new ArrayList<>();
            List<long[]> doneAt = new CopyOnWriteArrayList<>();
            for (int i = 1; i <= 20; i++) {
                Batcher.Job j = b.submit(row(i, i), arrived);
                j.result.whenComplete((r, e) -> doneAt.add(new long[] {System.nanoTime(), e == null ? 1 : 0}));
                jobs.add(j);
            }
            gate.countDown();
            blocker.get(5, TimeUnit.SECONDS);
            int served = 0;
            for (Batcher.Job j : jobs) {
                try {
                    j.result.get(5, TimeUnit.SECONDS);
                    served++;
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof OverloadedException, "the rest expire: " + e);
                }
            }
            assertTrue(served >= 1 && served < 20, served + " of 20 served");
            assertTrue(batches.get(2) < 20, "the first batch after the blocker was trimmed: " + batches);
            long deadline = arrived + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
            for (long[] d : doneAt) {
                if (d[1] == 1) {
                    // a trimmed batch ends about at the deadline; an untrimmed one would end 150 ms past it
                    assertTrue(d[0] - deadline < TimeUnit.MILLISECONDS.toNanos(100),
                            "served " + TimeUnit.NANOSECONDS.toMillis(d[0] - deadline) + " ms after the deadline");
                }
            }
        } finally {
            b.close();
        }
    }

    /** Per first value of a batch, a latch the engine waits on; each batch's start time and rows. */
    private final java.util.Map<Float, CountDownLatch> holds = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<long[]> starts = new CopyOnWriteArrayList<>();

    private List<NamedTensor> heldEngine(List<NamedTensor> in) {
        starts.add(new long[] {System.nanoTime(), in.get(0).shape()[0]});
        CountDownLatch hold = holds.get(in.get(0).floats()[0]);
        if (hold != null) {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return List.of(new NamedTensor("y", DataType.FP32, in.get(0).shape(), in.get(0).floats()));
    }

    /** Both places busy: a lone caller held at -1 and a worker's batch held at -2; returns their latches. */
    private CountDownLatch[] occupyBothPlaces(Batcher b) throws Exception {
        CountDownLatch lone = new CountDownLatch(1), batch = new CountDownLatch(1);
        holds.put(-1f, lone);
        holds.put(-2f, batch);
        int before = starts.size();
        java.util.concurrent.CompletableFuture.runAsync(() -> b.submit(row(-1, 0)).result.join());
        await(() -> starts.size() == before + 1);
        b.submit(row(-2, 0));
        await(() -> starts.size() == before + 2);
        return new CountDownLatch[] {lone, batch};
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "condition not met in 5 s");
            Thread.sleep(1);
        }
    }

    @Test
    void whileAnotherBatchComputesABatchWaitsForHalfTheAverageBatchAndNoLonger() throws Exception {
        // a one-second delay: long enough that waiting it out would show
        Batcher b = new Batcher("t", new BatchingSettings(32, 1_000_000, 100, 1, 2, 30_000), this::heldEngine);
        try {
            // batches of 1, 1 and 30, three times: the average grows to several rows
            for (int round = 0; round < 3; round++) {
                CountDownLatch[] held = occupyBothPlaces(b);
                List<Batcher.Job> jobs = new ArrayList<>();
                for (int i = 1; i <= 30; i++) {
                    jobs.add(b.submit(row(i, 0)));
                }
                held[0].countDown();
                held[1].countDown();
                for (Batcher.Job j : jobs) {
                    j.result.get(5, TimeUnit.SECONDS);
                }
            }
            assertTrue(b.floor() >= 2, "half the average batch of 1, 1 and 30 rows: " + b.floor());

            // one batch computes (the lone caller is let go); a request that arrives waits for company
            CountDownLatch[] held = occupyBothPlaces(b);
            held[0].countDown();
            // the lone caller's batch of 1 is folded into the average when it ends: the floor is read after
            await(() -> b.busy() == 1);
            int floor = b.floor();
            assertTrue(floor >= 2, "half the average batch, with the two batches of 1 that hold the places: " + floor);
            int before = starts.size();
            long t0 = System.nanoTime();
            List<Batcher.Job> jobs = new ArrayList<>();
            jobs.add(b.submit(row(100, 0)));
            Thread.sleep(150);
            assertEquals(before, starts.size(), "a batch below the floor waits while another computes");
            for (int i = 1; i < floor; i++) {
                jobs.add(b.submit(row(100 + i, 0)));
            }
            await(() -> starts.size() > before);
            long[] batch = starts.get(before);
            assertEquals(floor, batch[1], "the request and those that came while it waited ran together");
            long waited = TimeUnit.NANOSECONDS.toMillis(batch[0] - t0);
            assertTrue(waited >= 140 && waited < 700, "started once it reached the floor, not after the 1 s delay: "
                    + waited + " ms");
            for (Batcher.Job j : jobs) {
                j.result.get(5, TimeUnit.SECONDS);
            }
            held[1].countDown();
        } finally {
            holds.values().forEach(CountDownLatch::countDown);
            b.close();
        }
    }

    @Test
    void tensorsJoinAndSplitAlongTheBatchDimension() {
        List<NamedTensor> a = List.of(NamedTensor.ofStrings("text", "one", "two"));
        List<NamedTensor> b = List.of(NamedTensor.ofStrings("text", "three"));
        assertTrue(Tensors.compatible(a, b));
        List<NamedTensor> joined = Tensors.concat(List.of(a, b));
        assertArrayEquals(new long[] {3}, joined.get(0).shape());
        assertArrayEquals(new String[] {"one", "two", "three"}, joined.get(0).strings());
        NamedTensor out = new NamedTensor("e", DataType.FP32, new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6});
        List<List<NamedTensor>> parts = Tensors.split(List.of(out), new int[] {2, 1});
        assertArrayEquals(new float[] {1, 2, 3, 4}, parts.get(0).get(0).floats());
        assertArrayEquals(new long[] {1, 2}, parts.get(1).get(0).shape());
        assertTrue(!Tensors.compatible(row(1, 2), List.of(new NamedTensor("x", DataType.FP32, new long[] {1, 3},
                new float[] {1, 2, 3}))), "different row widths do not share a batch");
    }
}
