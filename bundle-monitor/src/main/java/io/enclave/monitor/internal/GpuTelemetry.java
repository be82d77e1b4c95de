package io.enclave.monitor.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU utilization and memory through NVML, by its command-line face {@code nvidia-smi} (part of
 * every NVIDIA driver install): no JNI binding to keep in step with driver versions. Read at most
 * every few seconds; a machine without the driver reports no GPUs at all, so the metrics are
 * absent rather than zero.
 */
final class GpuTelemetry {
    private static final Logger LOG = LoggerFactory.getLogger(GpuTelemetry.class);
    private static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** One GPU as NVML saw it. */
    record Gpu(int index, double utilizationRatio, double memoryUsedBytes, double memoryTotalBytes) {
    }

    private final Path smi;
    private volatile List<Gpu> last = List.of();
    private volatile long readAt;

    GpuTelemetry() {
        this(find());
    }

    GpuTelemetry(Path smi) {
        this.smi = smi;
    }

    private static Path find() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/local/nvidia/bin", "/bin")) {
            Path p = Path.of(dir, "nvidia-smi");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    boolean present() {
        return smi != null;
    }

    List<Gpu> read() {
        if (smi == null) {
            return List.of();
        }
        long now = System.nanoTime();
        if (now - readAt < MAX_AGE_NANOS) {
            return last;
        }
        synchronized (this) {
            if (now - readAt < MAX_AGE_NANOS) {
                return last;
            }
            try {
                Process p = new ProcessBuilder(smi.toString(),
                        "--query-gpu=index,utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits")
                        .redirectErrorStream(true).start();
                byte[] out = p.getInputStream().readNBytes(64 * 1024);
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                } else if (p.exitValue() == 0) {
                    last = parse(new String(out, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                LOG.debug("nvidia-smi failed: {}", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            readAt = System.nanoTime();
            return last;
        }
    }

    /** {@code 0, 37, 1024, 81920} per line: index, utilization %, memory used and total in MiB. */
    static List<Gpu> parse(String csv) {
        List<Gpu> gpus = new ArrayList<>();
        for (String line : csv.split("\n")) {
            String[] f = line.split(",");
            if (f.length != 4) {
                continue;
            }
            try {
                gpus.add(new Gpu(Integer.parseInt(f[0].trim()), Double.parseDouble(f[1].trim()) / 100.0,
                        Double.parseDouble(f[2].trim()) * 1024 * 1024, Double.parseDouble(f[3].trim()) * 1024 * 1024));
            } catch (NumberFormatException e) {
                // "[N/A]" on GPUs that do not report a figure: leave that GPU out
            }
        }
        return gpus;
    }
}
