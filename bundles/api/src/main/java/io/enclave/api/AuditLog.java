package io.enclave.api;

import java.time.Instant;
import java.util.List;

/**
 * The append-only, hash-chained record of every management action and every failed login. Each
 * entry carries the SHA-256 of the entry before it, so an edited, removed or reordered entry
 * breaks the chain and {@link #verify()} names the first entry that no longer fits. An append
 * returns only once the entry is on disk. Nothing in Enclave can change or delete an entry.
 * Thread-safe.
 */
public interface AuditLog {

    /** What happened, as a caller reports it. */
    record Event(String who, String from, String action, String target, String outcome, String detail) {
        public Event {
            who = who == null ? "system" : who;
            from = from == null ? "local" : from;
        }
    }

    /**
     * An entry as stored.
     *
     * @param seq  position in the log, from 1
     * @param time when it was appended
     * @param hash SHA-256 (hex) over the previous entry's hash and this entry's fields
     */
    record Entry(long seq, Instant time, Event event, String hash) {
    }

    /**
     * The outcome of a chain check.
     *
     * @param entries  how many entries were checked
     * @param firstBad the sequence number (line) of the first entry that breaks the chain, or 0
     * @param problem  what is wrong with it, or null
     */
    record Verification(long entries, long firstBad, String problem) {
        public boolean ok() {
            return firstBad == 0;
        }
    }

    /** Appends and forces the entry to disk. @return the stored entry */
    Entry append(Event event);

    /**
     * @param fromSeq first sequence number wanted (1 for the start)
     * @param limit   at most this many entries (capped by the implementation)
     * @param who     only entries by this user, or null
     * @param action  only entries whose action starts with this, or null
     * @return matching entries in log order
     */
    List<Entry> read(long fromSeq, int limit, String who, String action);

    /** @return the last {@code n} entries, oldest first */
    List<Entry> tail(int n);

    /** Re-reads the whole log from disk and checks every link of the chain. */
    Verification verify();
}
