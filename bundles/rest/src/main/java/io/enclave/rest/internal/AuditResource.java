package io.enclave.rest.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.enclave.api.AuditLog;
import io.enclave.api.InvalidInputException;
import io.enclave.api.Permission;

/** The audit log over the management API, read-only: {@code /enclave/v1/audit}. */
@Path("audit")
@Produces(MediaType.APPLICATION_JSON)
public class AuditResource {
    private final AuditLog audit;
    private final InferenceCodec codec;

    AuditResource(AuditLog audit, InferenceCodec codec) {
        this.audit = audit;
        this.codec = codec;
    }

    /** Entries from {@code from} on, at most {@code limit} (≤ 1000), optionally by user and action prefix. */
    @GET
    @Guard(Permission.AUDIT_READ)
    public Response entries(@QueryParam("from") @DefaultValue("1") long from,
            @QueryParam("limit") @DefaultValue("100") int limit, @QueryParam("who") String who,
            @QueryParam("action") String action) {
        if (from < 1 || limit < 1 || limit > 1000) {
            throw new InvalidInputException("'from' must be >= 1 and 'limit' within 1..1000");
        }
        List<Map<String, Object>> list = new ArrayList<>();
        long next = from;
        for (AuditLog.Entry e : audit.read(from, limit, who, action)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", e.seq());
            m.put("time", e.time().toString());
            m.put("who", e.event().who());
            m.put("from", e.event().from());
            m.put("action", e.event().action());
            m.put("target", e.event().target());
            m.put("outcome", e.event().outcome());
            m.put("detail", e.event().detail());
            m.put("hash", e.hash());
            list.add(m);
            next = e.seq() + 1;
        }
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("entries", list);
        page.put("next", list.size() < limit ? null : next);
        return Response.ok(codec.object(page), MediaType.APPLICATION_JSON_TYPE).build();
    }

    @GET
    @Path("verify")
    @Guard(Permission.AUDIT_READ)
    public Response verify() {
        AuditLog.Verification v = audit.verify();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", v.ok());
        m.put("entries", v.entries());
        if (!v.ok()) {
            m.put("firstBad", v.firstBad());
            m.put("problem", v.problem());
        }
        return Response.ok(codec.object(m), MediaType.APPLICATION_JSON_TYPE).build();
    }
}
