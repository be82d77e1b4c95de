"""Calls every operation of Enclave's InferenceService through zeep, an independent SOAP stack.

It reads the live ?wsdl, authenticates with a WS-Security UsernameToken (PasswordText with Nonce
and Created) or, with --basic, HTTP Basic, and prints one JSON document with what came back, so
the Java test can compare it with the REST answers. Faults are printed, not raised.
"""
import argparse
import base64
import datetime
import json
import os
import sys

import requests
import zeep
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse import utils
from zeep.wsse.username import UsernameToken


class TextTokenWithNonce(UsernameToken):
    """zeep sends Nonce and Created only with PasswordDigest; Enclave wants them with PasswordText."""

    def apply(self, envelope, headers):
        envelope, headers = super().apply(envelope, headers)
        token = utils.get_security_header(envelope).find("{%s}UsernameToken" % utils.ns.WSSE)
        token.append(utils.WSSE.Nonce(base64.b64encode(os.urandom(16)).decode("ascii"),
                                      EncodingType=self.soap_message_secutity_ns + "#Base64Binary"))
        created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        token.append(utils.WSU.Created(created))
        return envelope, headers


def fault(f):
    detail = None
    if f.detail is not None and len(f.detail):
        child = f.detail[0]
        detail = {"element": child.tag.split("}")[-1],
                  "message": child.findtext("{urn:enclave:inference:v1}message")}
    return {"fault": {"code": str(f.code), "message": f.message, "detail": detail}}


def tensor(t):
    for kind in ("boolValues", "intValues", "floatValues", "doubleValues", "stringValues"):
        values = getattr(t, kind)
        if values is not None:
            return {"name": t.name, "datatype": t.datatype, "shape": list(t.shape.dim), "values": list(values.v)}
    return {"name": t.name, "datatype": t.datatype, "shape": list(t.shape.dim), "values": []}


def call(fn):
    try:
        return fn()
    except Fault as f:
        return fault(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wsdl", required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--basic", action="store_true")
    p.add_argument("--model", default="minilm")
    p.add_argument("--version", default="1.1.0")
    p.add_argument("--text", action="append", required=True)
    a = p.parse_args()

    session = requests.Session()
    # the environment (REQUESTS_CA_BUNDLE, proxies) must not override the one certificate we trust
    session.trust_env = False
    session.verify = a.cafile
    wsse = None
    if a.basic:
        session.auth = (a.user, a.password)
    else:
        wsse = TextTokenWithNonce(a.user, a.password)
    client = zeep.Client(a.wsdl, transport=Transport(session=session, timeout=60), wsse=wsse)
    s = client.service
    out = {}

    def list_models():
        r = s.ListModels()
        return [{"name": m.name, "ready": m.ready,
                 "versions": [{"version": v.version, "state": v.state, "role": v.role, "weight": v.weightPercent}
                              for v in m.version]} for m in r]
    out["listModels"] = call(list_models)

    def metadata():
        r = s.GetModelMetadata(model=a.model)
        return {"name": r.name, "version": r.version, "versions": list(r.versions), "platform": r.platform,
                "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape.dim)} for t in r.input],
                "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape.dim)} for t in r.output]}
    out["metadata"] = call(metadata)

    def infer():
        r = s.Infer(model=a.model, version=a.version, id="zeep-1",
                    input=[{"name": "text", "datatype": "BYTES", "shape": {"dim": [len(a.text)]},
                            "stringValues": {"v": a.text}}])
        return {"model": r.model, "version": r.version, "id": r.id, "fallback": r.fallback,
                "outputs": [tensor(t) for t in r.output]}
    out["infer"] = call(infer)

    def infer_text():
        r = s.InferText(model=a.model, version=a.version, text=a.text)
        return {"model": r.model, "version": r.version, "fallback": r.fallback, "output": r.output,
                "results": [{"index": x.index, "label": x.label, "values": list(x.value)} for x in r.result]}
    out["inferText"] = call(infer_text)

    out["unknownModel"] = call(lambda: s.InferText(model="no-such-model", text=["x"]))
    out["badInput"] = call(lambda: s.Infer(model=a.model, version=a.version, input=[
        {"name": "text", "datatype": "FP32", "shape": {"dim": [2]}, "floatValues": {"v": [1.0]}}]))
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
