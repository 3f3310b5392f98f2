package org.flowfiji.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.ImageIO;
import org.flowfiji.model.FlowModel;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.EvalResult;
import org.flowfiji.ops.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flows eval}: log-likelihood and bits/dim of every plane of images under a model. */
@Command(name = "eval", description = "Log-likelihood (nats) and bits/dim of every plane under a model.", mixinStandardHelpOptions = true)
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model file (.flow).")
    Path model;

    @Option(names = "--input", required = true, arity = "1..*", description = "Images or stacks to evaluate.")
    List<Path> inputs;

    @Option(names = "--limit", defaultValue = "0", description = "Read at most this many planes per input (0 = all).")
    int limit;

    @picocli.CommandLine.Mixin
    EngineOptions engine;

    @picocli.CommandLine.Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        String device = engine.apply();
        ImageData data = ImageIO.readAll(inputs, limit);
        try (FlowModel m = FlowModel.load(model, device)) {
            EvalResult r = Evaluator.evaluate(m, data, new ConsoleProgress(output.quiet), new Cancellation());
            if (!output.quiet) System.err.printf("%d plane(s): mean %.4f bits/dim%n", r.bitsPerDim().size(), r.meanBitsPerDim());
            if (output.json) {
                JsonObject o = new JsonObject();
                o.addProperty("images", r.logLikelihoodNats().size());
                o.addProperty("bits_per_dim", r.meanBitsPerDim());
                JsonArray ll = new JsonArray();
                r.logLikelihoodNats().forEach(ll::add);
                o.add("log_likelihood_nats", ll);
                FlowsCommand.printJson(o);
            } else {
                for (int i = 0; i < r.bitsPerDim().size(); i++) {
                    System.out.printf("%d\t%.6f nats\t%.6f bits/dim%n", i + 1, r.logLikelihoodNats().get(i), r.bitsPerDim().get(i));
                }
            }
        }
        return 0;
    }
}
