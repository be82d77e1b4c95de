package io.enclave.core.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.enclave.api.BatchingSettings;

/**
 * A version's waiting requests, by priority level: the most urgent level (the lowest number) first, and
 * in order of arrival within a level. A version without priority levels puts everything at level 0,
 * which makes this a plain first-in, first-out queue.
 *
 * <p>The JDK's {@code PriorityBlockingQueue} orders by level too, but cannot give up its least urgent
 * entry without a scan of the whole queue, and a full queue does that for every urgent arrival. One lock
 * guards everything (the queue is touched a few times per request, and a request's computation takes
 * milliseconds), except a look at an empty queue: see {@link #size}.
 */
final class JobQueue {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    @SuppressWarnings("unchecked")
    private final ArrayDeque<Batcher.Job>[] levels = new ArrayDeque[BatchingSettings.MAX_PRIORITY_LEVELS + 1];
    /** The levels that hold a request. */
    private final BitSet occupied = new BitSet(BatchingSettings.MAX_PRIORITY_LEVELS + 1);
    /**
     * How many wait; written under the lock. A worker gathering a batch looks for more while callers are
     * microseconds away, many times over: an empty queue answers that without the lock, which the
     * callers need to add themselves.
     */
    private volatile int size;

    /** Adds a request behind those of its level. */
    void add(Batcher.Job job) {
        lock.lock();
        try {
            add(job, false);
        } finally {
            lock.unlock();
        }
    }

    private void add(Batcher.Job job, boolean first) {
        ArrayDeque<Batcher.Job> q = levels[job.level];
        if (q == null) {
            q = levels[job.level] = new ArrayDeque<>();
        }
        if (first) {
            q.addFirst(job);
        } else {
            q.addLast(job);
        }
        occupied.set(job.level);
        size++;
        notEmpty.signal();
    }

    /** @return true when nothing waits; answered without the lock */
    boolean isEmpty() {
        return size == 0;
    }

    /** @return the most urgent request, or null when none waits */
    Batcher.Job peek() {
        if (size == 0) {
            return null;
        }
        lock.lock();
        try {
            int l = occupied.nextSetBit(0);
            return l < 0 ? null : levels[l].peekFirst();
        } finally {
            lock.unlock();
        }
    }

    /** @return the most urgent request, taken out; null when none came within {@code nanos} */
    Batcher.Job poll(long nanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            int l;
            while ((l = occupied.nextSetBit(0)) < 0) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return take(l);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes out the first waiting request that {@code fits} accepts, looking at the most urgent first and
     * in order of arrival within a level, and at no more than {@code scan} of them: requests a batch
     * cannot take stay where they are, for the next batch to start with.
     *
     * @param fits called under the queue's lock: it must not block
     * @return that request, or null when none of those looked at fits
     */
    Batcher.Job pollFitting(java.util.function.Predicate<Batcher.Job> fits, int scan) {
        if (size == 0) {
            return null;
        }
        lock.lock();
        try {
            int left = scan;
            for (int l = occupied.nextSetBit(0); l >= 0 && left > 0; l = occupied.nextSetBit(l + 1)) {
                for (java.util.Iterator<Batcher.Job> it = levels[l].iterator(); it.hasNext() && left-- > 0;) {
                    Batcher.Job job = it.next();
                    if (fits.test(job)) {
                        it.remove();
                        removed(l);
                        return job;
                    }
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** @return whether {@code job} waited here (it is out now) */
    boolean remove(Batcher.Job job) {
        lock.lock();
        try {
            ArrayDeque<Batcher.Job> q = levels[job.level];
            if (q == null || !q.removeFirstOccurrence(job)) {
                return false;
            }
            removed(job.level);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a worker that took {@code held} and then waited for a place to compute: a more urgent request
     * that came meanwhile goes first, and {@code held} goes back to the front of its level.
     *
     * @return the request to run now: the most urgent waiting one if it is more urgent than {@code held},
     *         else {@code held}
     */
    Batcher.Job mostUrgent(Batcher.Job held) {
        lock.lock();
        try {
            int l = occupied.nextSetBit(0);
            if (l < 0 || l >= held.level) {
                return held;
            }
            Batcher.Job sooner = take(l);
            add(held, true);
            return sooner;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes out the request that would run last, if it is less urgent than {@code level}: the newest of
     * the least urgent level, so that of equally urgent requests the one that waited longest keeps its
     * place.
     *
     * @return that request, or null when every waiting request is at least as urgent
     */
    Batcher.Job pollLessUrgentThan(int level) {
        lock.lock();
        try {
            int l = occupied.previousSetBit(levels.length - 1);
            if (l <= level) {
                return null;
            }
            Batcher.Job job = levels[l].pollLast();
            removed(l);
            return job;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Places every waiting request again, at its level under {@code settings}, in order of arrival
     * within each level: levels turned off put everything back in order of arrival.
     */
    void relevel(BatchingSettings settings) {
        lock.lock();
        try {
            List<Batcher.Job> all = drain();
            all.sort(java.util.Comparator.comparingLong(j -> j.enqueued));
            for (Batcher.Job j : all) {
                j.level = settings.level(j.priority);
                add(j, false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return every waiting request, taken out, most urgent first */
    List<Batcher.Job> drain() {
        lock.lock();
        try {
            List<Batcher.Job> all = new ArrayList<>();
            for (int l = occupied.nextSetBit(0); l >= 0; l = occupied.nextSetBit(l + 1)) {
                all.addAll(levels[l]);
                levels[l].clear();
            }
            occupied.clear();
            size = 0;
            return all;
        } finally {
            lock.unlock();
        }
    }

    private Batcher.Job take(int level) {
        Batcher.Job job = levels[level].pollFirst();
        removed(level);
        return job;
    }

    /** One request left {@code level}; under the lock. */
    private void removed(int level) {
        size--;
        if (levels[level].isEmpty()) {
            occupied.clear(level);
        }
    }
}
