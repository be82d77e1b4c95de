package io.enclave.rest.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import javax.servlet.http.HttpServletResponse;

import org.junit.jupiter.api.Test;

class NonBlockingAnswerTest {

    /** A response that records status and headers, and fails if anything tries to write through it. */
    private static HttpServletResponse recording(Map<String, Object> seen) {
        return (HttpServletResponse) Proxy.newProxyInstance(NonBlockingAnswerTest.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "setStatus", "setContentType", "setContentLength" -> seen.put(method.getName(), args[0]);
                        case "setHeader" -> seen.put((String) args[0], args[1]);
                        case "getOutputStream", "getWriter" -> throw new AssertionError("the real response was written");
                        default -> {
                            return null;
                        }
                    }
                    return null;
                });
    }

    @Test
    void theBodyIsKeptNotWrittenAndAWholeArrayIsHandedOverWithoutACopy() throws Exception {
        Map<String, Object> seen = new HashMap<>();
        NonBlockingAnswer.Captured c = new NonBlockingAnswer.Captured(recording(seen));
        byte[] body = "{\"outputs\":[]}".getBytes(StandardCharsets.UTF_8);
        c.setStatus(200);
        c.setContentType("application/json");
        c.setContentLength(body.length);
        c.setHeader("Inference-Header-Content-Length", "14");
        c.getOutputStream().write(body);
        assertSame(body, c.body());
        // status and headers reach the real response at once: only the body waits
        assertEquals(200, seen.get("setStatus"));
        assertEquals(body.length, seen.get("setContentLength"));
        assertEquals("14", seen.get("Inference-Header-Content-Length"));
    }

    @Test
    void severalWritesAreKeptInOrder() throws Exception {
        NonBlockingAnswer.Captured c = new NonBlockingAnswer.Captured(recording(new HashMap<>()));
        assertArrayEquals(new byte[0], c.body(), "nothing written yet");
        c.getOutputStream().write("ab".getBytes(StandardCharsets.UTF_8));
        c.getOutputStream().write('c');
        c.getOutputStream().write("xdefx".getBytes(StandardCharsets.UTF_8), 1, 3);
        assertEquals("abcdef", new String(c.body(), StandardCharsets.UTF_8));
        assertTrue(c.getOutputStream().isReady());
        assertThrows(IllegalStateException.class, () -> c.getOutputStream().setWriteListener(null));
    }
}
