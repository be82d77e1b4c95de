package io.enclave.security.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The file format of Enclave's encrypted artifacts, a segmented AEAD in the manner of the STREAM
 * construction:
 *
 * <pre>
 * "ENCLAVE" 0x01 | u8 len, provider | u8 len, key id | u16 len, wrapped data key
 *                | u32 segment size | 8-byte nonce prefix
 * segment 0 .. n: AES-256-GCM(data key, nonce = prefix || u32 index,
 *                             aad = SHA-256(format fields) || u8 last) ; each ≤ segment size + 16
 * </pre>
 *
 * The last segment is flagged in its associated data, so cutting the file at a segment boundary
 * fails like any other change. The provider, key id and wrapped key are outside the associated data,
 * so re-wrapping a data key rewrites the header only.
 */
final class SegmentedAead {
    static final byte[] MAGIC = {'E', 'N', 'C', 'L', 'A', 'V', 'E', 1};
    static final int DEFAULT_SEGMENT = 1 << 20;
    private static final int MAX_SEGMENT = 64 << 20;
    private static final int TAG = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The header of an encrypted file. */
    record Header(String provider, String keyId, byte[] wrapped, int segmentSize, byte[] noncePrefix) {
        byte[] aadPrefix() {
            try {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                d.update(MAGIC);
                d.update(ByteBuffer.allocate(4).putInt(segmentSize).array());
                d.update(noncePrefix);
                return d.digest();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        void write(OutputStream out) throws IOException {
            DataOutputStream d = new DataOutputStream(out);
            d.write(MAGIC);
            byte[] p = provider.getBytes(StandardCharsets.UTF_8);
            byte[] k = keyId.getBytes(StandardCharsets.UTF_8);
            d.writeByte(p.length);
            d.write(p);
            d.writeByte(k.length);
            d.write(k);
            d.writeShort(wrapped.length);
            d.write(wrapped);
            d.writeInt(segmentSize);
            d.write(noncePrefix);
            d.flush();
        }

        static Header read(InputStream in) throws IOException {
            DataInputStream d = new DataInputStream(in);
            byte[] magic = new byte[MAGIC.length];
            try {
                d.readFully(magic);
                if (!Arrays.equals(magic, MAGIC)) {
                    throw new IOException("not an Enclave encrypted file (bad magic)");
                }
                String provider = new String(d.readNBytes(d.readUnsignedByte()), StandardCharsets.UTF_8);
                String keyId = new String(d.readNBytes(d.readUnsignedByte()), StandardCharsets.UTF_8);
                byte[] wrapped = new byte[d.readUnsignedShort()];
                d.readFully(wrapped);
                int segment = d.readInt();
                if (segment < 1 || segment > MAX_SEGMENT) {
                    throw new IOException("encrypted file has an invalid segment size " + segment);
                }
                byte[] prefix = new byte[8];
                d.readFully(prefix);
                return new Header(provider, keyId, wrapped, segment, prefix);
            } catch (EOFException e) {
                throw new IOException("encrypted file is truncated inside its header");
            }
        }
    }

    private SegmentedAead() {
    }

    static byte[] newDataKey() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return k;
    }

    static byte[] newNoncePrefix() {
        byte[] p = new byte[8];
        RANDOM.nextBytes(p);
        return p;
    }

    private static Cipher cipher(int mode, byte[] key, Header h, int index, boolean last) throws GeneralSecurityException {
        byte[] nonce = ByteBuffer.allocate(12).put(h.noncePrefix()).putInt(index).array();
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG * 8, nonce));
        c.updateAAD(h.aadPrefix());
        c.updateAAD(new byte[] {(byte) (last ? 1 : 0)});
        return c;
    }

    static void encrypt(byte[] key, Header h, InputStream in, OutputStream out) throws IOException {
        h.write(out);
        byte[] current = in.readNBytes(h.segmentSize());
        int index = 0;
        try {
            while (true) {
                byte[] next = current.length < h.segmentSize() ? new byte[0] : in.readNBytes(h.segmentSize());
                boolean last = next.length == 0;
                out.write(cipher(Cipher.ENCRYPT_MODE, key, h, index, last).doFinal(current));
                if (last) {
                    break;
                }
                if (index == Integer.MAX_VALUE) {
                    throw new IOException("file too large for the segment size");
                }
                index++;
                current = next;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("encryption failed: " + e.getMessage(), e);
        }
        out.flush();
    }

    /** Decrypts segment by segment, holding at most two segments in memory. */
    static final class DecryptingStream extends InputStream {
        private final byte[] key;
        private final Header header;
        private final InputStream in;
        private byte[] pendingCipher;
        private byte[] plain = new byte[0];
        private int pos;
        private int index;
        private boolean done;

        DecryptingStream(byte[] key, Header header, InputStream in) throws IOException {
            this.key = key;
            this.header = header;
            this.in = in;
            this.pendingCipher = in.readNBytes(header.segmentSize() + TAG);
            if (pendingCipher.length < TAG) {
                throw new IOException("encrypted file is truncated: no content segment");
            }
        }

        private boolean fill() throws IOException {
            while (pos >= plain.length) {
                if (done) {
                    return false;
                }
                byte[] next = pendingCipher.length < header.segmentSize() + TAG ? new byte[0]
                        : in.readNBytes(header.segmentSize() + TAG);
                boolean last = next.length == 0;
                try {
                    plain = cipher(Cipher.DECRYPT_MODE, key, header, index, last).doFinal(pendingCipher);
                } catch (AEADBadTagException e) {
                    throw new IOException("encrypted file is corrupt or was tampered with (segment " + index
                            + " fails authentication)");
                } catch (GeneralSecurityException e) {
                    throw new IOException("decryption failed: " + e.getMessage(), e);
                }
                pos = 0;
                index++;
                pendingCipher = next;
                done = last;
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? plain[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, plain.length - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            Arrays.fill(key, (byte) 0);
            in.close();
        }
    }

    static byte[] headerBytes(Header h) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        h.write(b);
        return b.toByteArray();
    }
}
