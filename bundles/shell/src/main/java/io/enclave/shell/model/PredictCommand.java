package io.enclave.shell.model;

import java.util.List;
import java.util.Locale;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.Router;
import io.enclave.api.TensorSpec;
import io.enclave.api.DataType;

@Service
@Command(scope = "model", name = "predict", description = "Runs a text model on each text and summarises the result")
public class PredictCommand implements Action {
    @Reference
    Router router;

    @Option(name = "--version", aliases = "-v", description = "Model version (default: the one routing picks)")
    @Completion(ModelVersionCompleter.class)
    String version;

    @Argument(index = 0, name = "model", required = true, description = "Model name")
    @Completion(ModelNameCompleter.class)
    String model;

    @Argument(index = 1, name = "text", required = true, multiValued = true, description = "Texts, one row each")
    List<String> texts;

    @Override
    public Object execute() {
        ModelVersion target = router.resolve(model, version);
        List<TensorSpec> inputs = target.descriptor().inputs();
        if (inputs.size() != 1 || inputs.get(0).datatype() != DataType.BYTES) {
            throw new IllegalArgumentException("model " + model + " does not take text; use the REST API for tensors");
        }
        NamedTensor in = NamedTensor.ofStrings(inputs.get(0).name(), texts.toArray(String[]::new));
        InferenceResponse r = router.infer(new InferenceRequest(model,
                target.descriptor().version().toString(), List.of(in), null));
        System.out.println("model " + r.model() + " version " + r.version());
        ShellTable table = new ShellTable();
        table.column("Text").maxSize(40);
        table.column("Output");
        table.column("Shape");
        table.column("L2 norm");
        table.column("First values");
        for (NamedTensor out : r.outputs()) {
            summarise(table, out);
        }
        table.print(System.out);
        return null;
    }

    private void summarise(ShellTable table, NamedTensor out) {
        long[] shape = out.shape();
        if (out.datatype() != DataType.FP32 || shape.length != 2 || shape[0] != texts.size()) {
            table.addRow().addContent("(all)", out.name(), java.util.Arrays.toString(shape), "-", "-");
            return;
        }
        int dim = (int) shape[1];
        float[] data = out.floats();
        for (int row = 0; row < texts.size(); row++) {
            double norm = 0;
            StringBuilder head = new StringBuilder();
            for (int d = 0; d < dim; d++) {
                float v = data[row * dim + d];
                norm += v * v;
                if (d < 4) {
                    head.append(String.format(Locale.ROOT, "%+.4f ", v));
                }
            }
            table.addRow().addContent(texts.get(row), out.name(), "[" + dim + "]",
                    String.format(Locale.ROOT, "%.4f", Math.sqrt(norm)), head.append("...").toString());
        }
    }
}
