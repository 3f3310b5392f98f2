package org.flowfiji.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.flowfiji.model.ModelFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flows info}: prints a model's flow.json. */
@Command(name = "info", description = "Print a model's description (flow.json).", mixinStandardHelpOptions = true)
final class InfoCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model file (.flow).")
    Path model;

    @Option(names = "--json", description = "Print flow.json as one line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        var o = ModelFile.readJson(model);
        if (json) FlowsCommand.printJson(o);
        else System.out.println(new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(o));
        return 0;
    }
}
