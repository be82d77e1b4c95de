package io.enclave.core.internal;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.List;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** ConfigAdmin holding one configuration, for unit tests: what it stores, how often it was written, what was asked. */
final class FakeConfigAdmin {
    /** As ConfigAdmin holds it; null before the first write. */
    Dictionary<String, Object> stored;
    int writes;
    volatile int deletes;
    /** Updates still to refuse as ConfigAdmin refuses one on a deleted configuration. */
    int deletedUnderTheWriter;
    final List<String> asked = new ArrayList<>();

    final Configuration configuration;
    final ConfigurationAdmin admin;

    /** @param pid a named factory configuration's, {@code factoryPid~name} */
    FakeConfigAdmin(String pid) {
        configuration = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getProperties" -> stored;
                case "getPid" -> pid;
                case "getFactoryPid" -> pid.substring(0, pid.indexOf('~'));
                case "delete" -> {
                    stored = null;
                    deletes++;
                    yield null;
                }
                case "update" -> {
                    if (deletedUnderTheWriter > 0) {
                        deletedUnderTheWriter--;
                        throw new IllegalStateException("Configuration " + pid + " deleted");
                    }
                    @SuppressWarnings("unchecked")
                    Dictionary<String, Object> d = (Dictionary<String, Object>) args[0];
                    stored = d;
                    writes++;
                    yield null;
                }
                default -> throw new UnsupportedOperationException(method.getName());
            });
        admin = (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> {
                asked.add(method.getName() + " " + String.join(" ", Arrays.stream(args).map(String::valueOf).toList()));
                return switch (method.getName()) {
                    case "getConfiguration", "getFactoryConfiguration" -> configuration;
                    case "listConfigurations" -> stored == null ? null : new Configuration[] {configuration};
                    default -> throw new UnsupportedOperationException(method.getName());
                };
            });
    }
}
