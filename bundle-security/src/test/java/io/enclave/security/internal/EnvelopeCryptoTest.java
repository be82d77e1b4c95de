package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvelopeCryptoTest {
    @TempDir
    Path etc;

    private Pkcs12KeyProvider keys;
    private EnvelopeCryptoService crypto;

    @BeforeEach
    void setUp() throws Exception {
        keys = new Pkcs12KeyProvider();
        keys.open(etc.resolve("enclave-keys.p12"), etc.resolve("enclave-keys.password"));
        crypto = new EnvelopeCryptoService();
        crypto.bindProvider(keys);
    }

    private byte[] encrypt(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        crypto.encrypt(new ByteArrayInputStream(plain), out);
        return out.toByteArray();
    }

    private byte[] decrypt(byte[] cipher) throws IOException {
        try (InputStream in = crypto.decrypt(new ByteArrayInputStream(cipher))) {
            return in.readAllBytes();
        }
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void roundTripsAnySizeAcrossSegmentBoundaries() throws Exception {
        int seg = SegmentedAead.DEFAULT_SEGMENT;
        for (int n : new int[] {0, 1, 1000, seg - 1, seg, seg + 1, 2 * seg, 2 * seg + 17}) {
            byte[] plain = random(n);
            byte[] cipher = encrypt(plain);
            assertArrayEquals(plain, decrypt(cipher), "size " + n);
            if (n > 64) {
                assertTrue(indexOf(cipher, Arrays.copyOf(plain, 64)) < 0, "no plaintext in the ciphertext");
            }
        }
        assertNotEquals(Arrays.toString(encrypt(new byte[10])), Arrays.toString(encrypt(new byte[10])), "fresh key and nonce per file");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void anyChangedByteFailsLoudly() throws Exception {
        byte[] plain = random(SegmentedAead.DEFAULT_SEGMENT * 2 + 100);
        byte[] cipher = encrypt(plain);
        for (int at : new int[] {cipher.length - 1, cipher.length / 2, 200}) {
            byte[] bad = cipher.clone();
            bad[at] ^= 0x01;
            IOException e = assertThrows(IOException.class, () -> decrypt(bad));
            assertTrue(e.getMessage().contains("tampered") || e.getMessage().contains("unwrap"), e.getMessage());
        }
        byte[] badKey = cipher.clone();
        badKey[30] ^= 0x01; // inside the wrapped data key
        assertThrows(IOException.class, () -> decrypt(badKey));
    }

    @Test
    void truncationAndReorderingFail() throws Exception {
        int seg = SegmentedAead.DEFAULT_SEGMENT;
        byte[] plain = random(seg * 3);
        byte[] cipher = encrypt(plain);
        int header = cipher.length - 3 * (seg + 16);
        byte[] cut = Arrays.copyOf(cipher, header + 2 * (seg + 16));
        assertTrue(assertThrows(IOException.class, () -> decrypt(cut)).getMessage().contains("segment 1"));
        byte[] swapped = cipher.clone();
        System.arraycopy(cipher, header, swapped, header + seg + 16, seg + 16);
        System.arraycopy(cipher, header + seg + 16, swapped, header, seg + 16);
        assertThrows(IOException.class, () -> decrypt(swapped));
        assertTrue(assertThrows(IOException.class, () -> decrypt("plain text, not encrypted".getBytes()))
                .getMessage().contains("not an Enclave encrypted file"));
    }

    @Test
    void rotationRewrapsTheHeaderOnlyAndOldFilesStillOpen() throws Exception {
        byte[] plain = random(5000);
        byte[] before = encrypt(plain);
        assertEquals("master-1", keys.currentKeyId());
        assertEquals("master-2", keys.rotate());
        assertArrayEquals(plain, decrypt(before), "a file wrapped by master-1 still opens");
        ByteArrayOutputStream rewrapped = new ByteArrayOutputStream();
        crypto.rewrap(new ByteArrayInputStream(before), rewrapped);
        byte[] after = rewrapped.toByteArray();
        assertArrayEquals(plain, decrypt(after));
        assertTrue(new String(after, 0, 40, java.nio.charset.StandardCharsets.ISO_8859_1).contains("master-2"));
        assertArrayEquals(Arrays.copyOfRange(before, before.length - 5016, before.length),
                Arrays.copyOfRange(after, after.length - 5016, after.length), "the content is untouched");

        // the key store survives a restart with both keys
        Pkcs12KeyProvider reopened = new Pkcs12KeyProvider();
        reopened.open(etc.resolve("enclave-keys.p12"), etc.resolve("enclave-keys.password"));
        assertEquals("master-2", reopened.currentKeyId());
        EnvelopeCryptoService other = new EnvelopeCryptoService();
        other.bindProvider(reopened);
        try (InputStream in = other.decrypt(new ByteArrayInputStream(before))) {
            assertArrayEquals(plain, in.readAllBytes());
        }
    }

    @Test
    void anotherKeyStoreCannotOpenTheFile(@TempDir Path elsewhere) throws Exception {
        byte[] cipher = encrypt(random(100));
        Pkcs12KeyProvider foreign = new Pkcs12KeyProvider();
        foreign.open(elsewhere.resolve("k.p12"), elsewhere.resolve("k.pw"));
        EnvelopeCryptoService other = new EnvelopeCryptoService();
        other.bindProvider(foreign);
        IOException e = assertThrows(IOException.class, () -> other.decrypt(new ByteArrayInputStream(cipher)));
        assertTrue(e.getMessage().contains("cannot unwrap"), e.getMessage());
    }
}
