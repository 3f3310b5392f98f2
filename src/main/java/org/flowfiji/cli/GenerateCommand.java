package org.flowfiji.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.flowfiji.data.SyntheticMicroscopy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flows generate}: writes the synthetic fluorescence sample images. */
@Command(name = "generate", description = "Write the synthetic fluorescence-microscopy sample images (train, test, anomaly mask).", mixinStandardHelpOptions = true)
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "sample-images", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--seed", defaultValue = "42", description = "Generator seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        SyntheticMicroscopy.generate(out, seed);
        System.err.println("sample images written to " + out);
        return 0;
    }
}
