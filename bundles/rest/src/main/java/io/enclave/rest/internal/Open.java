package io.enclave.rest.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A resource method anyone may call (health probes): it must leak nothing. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Open {
}
