package io.enclave.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;

/**
 * A lean HTTP/1.1 load generator for the overload rounds: one thread, one selector, persistent
 * connections, the request prebuilt as bytes, and only the status line and the body's length read
 * from each answer. Java's HttpClient took most of a core at a few hundred requests a second here,
 * from the same two cores the server runs on, so it measured itself as much as the server.
 */
final class RawLoad {
    /** What came back: the time of each answer by kind, in nanoseconds. */
    record Result(long[] served, long[] rejected, long failed, long notSent, double seconds) {
    }

    private final InetSocketAddress address;
    private final byte[] request;
    private final int maxConnections;
    private final Selector selector;
    private final ArrayDeque<Conn> idle = new ArrayDeque<>();
    private int open;
    private int inFlight;
    private long[] served = new long[1024];
    private int nServed;
    private long[] rejected = new long[1024];
    private int nRejected;
    private long failed;

    private RawLoad(InetSocketAddress address, String path, String authorization, String body, int maxConnections)
            throws IOException {
        this.address = address;
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: " + address.getHostString() + ":" + address.getPort()
                + "\r\nAuthorization: " + authorization + "\r\nContent-Type: application/json\r\nContent-Length: "
                + content.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        this.request = Arrays.copyOf(h, h.length + content.length);
        System.arraycopy(content, 0, request, h.length, content.length);
        this.maxConnections = maxConnections;
        this.selector = Selector.open();
    }

    /**
     * Open loop: request i is due at start + i / rate and leaves then whatever the earlier ones are
     * doing; its time counts from when it was due. With every connection busy, a due request is
     * counted as not sent.
     */
    static Result openLoop(InetSocketAddress address, String path, String authorization, String body, double perSecond,
            int secs, int maxConnections) throws IOException {
        RawLoad l = new RawLoad(address, path, authorization, body, maxConnections);
        try {
            return l.open(perSecond, secs);
        } finally {
            l.close();
        }
    }

    /** Closed loop: every connection sends again as soon as its answer is in, for {@code secs}. */
    static Result closedLoop(InetSocketAddress address, String path, String authorization, String body, int connections,
            int secs) throws IOException {
        RawLoad l = new RawLoad(address, path, authorization, body, connections);
        try {
            return l.closed(secs);
        } finally {
            l.close();
        }
    }

    private Result open(double perSecond, int secs) throws IOException {
        int total = (int) Math.round(perSecond * secs);
        long interval = Math.round(1e9 / perSecond);
        long start = System.nanoTime() + 10_000_000L;
        long giveUp = start + (secs + 60) * 1_000_000_000L;
        long notSent = 0;
        int i = 0;
        while (i < total || inFlight > 0) {
            long now = System.nanoTime();
            if (now > giveUp) {
                failed += inFlight;
                break;
            }
            for (long due = start + i * interval; i < total && due <= now; due = start + ++i * interval) {
                Conn c = connection();
                if (c == null) {
                    notSent++;
                } else {
                    c.send(due);
                }
            }
            long wait = i < total ? start + i * interval - System.nanoTime() : 50_000_000L;
            poll(wait, Long.MAX_VALUE);
        }
        return result(notSent, (System.nanoTime() - start) / 1e9);
    }

    private Result closed(int secs) throws IOException {
        long start = System.nanoTime();
        long end = start + secs * 1_000_000_000L;
        for (int i = 0; i < maxConnections; i++) {
            connection().send(System.nanoTime());
        }
        long giveUp = end + 60_000_000_000L;
        while (inFlight > 0 && System.nanoTime() < giveUp) {
            poll(50_000_000L, end);
        }
        failed += inFlight;
        return result(0, (end - start) / 1e9);
    }

    private Result result(long notSent, double seconds) {
        long[] ok = Arrays.copyOf(served, nServed);
        long[] rej = Arrays.copyOf(rejected, nRejected);
        Arrays.sort(ok);
        Arrays.sort(rej);
        return new Result(ok, rej, failed, notSent, seconds);
    }

    /**
     * An idle connection, a new one while under the limit, or null. A new one connects without
     * blocking: when the server's accept queue is full the kernel drops the connection's SYN and
     * retries it a second later, and that must delay only this caller, as it would one client among
     * many, not every caller this one thread drives.
     */
    private Conn connection() throws IOException {
        Conn c = idle.poll();
        if (c != null || open >= maxConnections) {
            return c;
        }
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.configureBlocking(false);
        open++;
        c = new Conn(ch);
        c.connected = ch.connect(address);
        c.key = ch.register(selector, 0, c);
        return c;
    }

    /**
     * Waits up to {@code nanos} for answers and handles them; a connection whose answer is complete
     * sends again at once while before {@code resendUntil}, else goes back to the idle ones.
     */
    private void poll(long nanos, long resendUntil) throws IOException {
        long millis = nanos / 1_000_000L;
        if (millis <= 0) {
            selector.selectNow();
        } else {
            selector.select(millis);
        }
        for (SelectionKey k : selector.selectedKeys()) {
            Conn c = (Conn) k.attachment();
            if (!k.isValid()) {
                continue;
            }
            if (k.isConnectable()) {
                c.connect();
                continue;
            }
            if (k.isWritable()) {
                c.write();
            }
            boolean resend = resendUntil != Long.MAX_VALUE && System.nanoTime() < resendUntil;
            if (k.isReadable()) {
                if (c.read()) {
                    long now = System.nanoTime();
                    record(c.status, now - c.due);
                    if (c.closeAfter) {
                        c.close();
                    } else if (resend) {
                        c.send(now);
                        continue;
                    } else {
                        idle.push(c);
                        continue;
                    }
                } else if (c.channel.isOpen()) {
                    continue;
                }
                // the server closed this connection: a closed loop keeps its callers on a new one
                if (resend) {
                    Conn n = connection();
                    if (n != null) {
                        n.send(System.nanoTime());
                    }
                }
            }
        }
        selector.selectedKeys().clear();
    }

    private void record(int status, long nanos) {
        if (status == 200) {
            if (nServed == served.length) {
                served = Arrays.copyOf(served, nServed * 2);
            }
            served[nServed++] = nanos;
        } else if (status == 503) {
            if (nRejected == rejected.length) {
                rejected = Arrays.copyOf(rejected, nRejected * 2);
            }
            rejected[nRejected++] = nanos;
        } else {
            failed++;
        }
    }

    private void close() throws IOException {
        for (SelectionKey k : selector.keys()) {
            k.channel().close();
        }
        selector.close();
    }

    /** One connection, one request at a time. */
    private final class Conn {
        private final SocketChannel channel;
        private SelectionKey key;
        private final ByteBuffer out = ByteBuffer.wrap(request);
        /** Big enough for any answer here (an embedding as JSON text, or an error). */
        private final ByteBuffer in = ByteBuffer.allocate(256 * 1024);
        private long due;
        private int status;
        private boolean closeAfter;
        private boolean connected;

        Conn(SocketChannel channel) {
            this.channel = channel;
        }

        void send(long due) throws IOException {
            this.due = due;
            inFlight++;
            out.clear();
            in.clear();
            if (connected) {
                write();
            } else {
                key.interestOps(SelectionKey.OP_CONNECT);
            }
        }

        /** The connection is made (or failed): its request goes out. */
        void connect() throws IOException {
            try {
                if (!channel.finishConnect()) {
                    return;
                }
            } catch (IOException e) {
                fail();
                return;
            }
            connected = true;
            write();
        }

        void write() throws IOException {
            try {
                channel.write(out);
            } catch (IOException e) {
                fail();
                return;
            }
            key.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE | SelectionKey.OP_READ : SelectionKey.OP_READ);
        }

        /** @return whether a whole answer is in */
        boolean read() throws IOException {
            int n;
            try {
                n = channel.read(in);
            } catch (IOException e) {
                n = -1;
            }
            if (n < 0 || !in.hasRemaining()) {
                fail();
                return false;
            }
            int end = complete();
            if (end < 0) {
                return false;
            }
            inFlight--;
            key.interestOps(0);
            return true;
        }

        /** The length of a complete answer in {@link #in}, or -1 while more is to come. */
        private int complete() {
            byte[] b = in.array();
            int len = in.position();
            int headEnd = -1;
            for (int i = 3; i < len; i++) {
                if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                    headEnd = i + 1;
                    break;
                }
            }
            if (headEnd < 0) {
                return -1;
            }
            String head = new String(b, 0, headEnd, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            status = Integer.parseInt(head.substring(9, 12));
            closeAfter = head.contains("\nconnection: close");
            int at = head.indexOf("\ncontent-length:");
            if (at >= 0) {
                int eol = head.indexOf('\r', at);
                int total = headEnd + Integer.parseInt(head.substring(at + 16, eol).trim());
                return len >= total ? total : -1;
            }
            if (head.contains("\ntransfer-encoding: chunked")) {
                // the last chunk is "0" and an empty line
                return len - headEnd >= 5 && new String(b, len - 5, 5, StandardCharsets.ISO_8859_1).equals("0\r\n\r\n")
                        ? len : -1;
            }
            return -1;
        }

        private void fail() throws IOException {
            failed++;
            inFlight--;
            close();
        }

        void close() throws IOException {
            key.cancel();
            channel.close();
            open--;
        }
    }
}
