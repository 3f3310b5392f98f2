package org.flowfiji.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import org.flowfiji.model.ModelFileException;
import org.flowfiji.ops.Cancellation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code flows} command line: train, evaluate, sample and map normalizing flows on images,
 * for servers and clusters without a display.
 *
 * <p>Exit codes: 0 success, 2 bad usage or bad input (a one-line message says what and how to fix
 * it), 1 any other failure. {@code --debug} prints stack traces. With {@code --json} the last
 * line on stdout is one JSON object with the subcommand's figures.
 */
@Command(name = "flows", mixinStandardHelpOptions = true, version = "flows 0.1.0",
        description = "Normalizing flows (RealNVP, Glow, IAF) for microscopy images.",
        subcommands = {TrainCommand.class, EvalCommand.class, SampleCommand.class, MapCommand.class,
                InfoCommand.class, GenerateCommand.class, BenchCommand.class, DemoCommand.class})
public final class FlowsCommand implements Runnable {

    @Option(names = "--debug", description = "Print stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests: no System.exit). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FlowsCommand());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean debug = parseResult.originalArgs().contains("--debug");
            PrintWriter err = commandLine.getErr();
            if (debug) ex.printStackTrace(err);
            err.println("flows " + commandLine.getCommandName() + ": " + message(ex));
            err.flush();
            return isUserError(ex) ? 2 : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("flows: " + ex.getMessage());
            err.println("Try 'flows " + ex.getCommandLine().getCommandName() + " --help'.");
            return 2;
        });
        return cl;
    }

    static boolean isUserError(Throwable ex) {
        return ex instanceof IllegalArgumentException || ex instanceof ModelFileException
                || ex instanceof NoSuchFileException || ex instanceof java.io.FileNotFoundException
                || (ex instanceof IOException && !(ex.getCause() instanceof RuntimeException))
                || ex instanceof Cancellation.CancelledException;
    }

    static String message(Throwable ex) {
        String m = ex.getMessage();
        if (ex instanceof NoSuchFileException) return "no such file: " + m;
        return m == null ? ex.getClass().getSimpleName() : m;
    }

    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    /** Prints one JSON object on a single line (the last stdout line of a --json run). */
    static void printJson(JsonElement json) {
        System.out.println(GSON.toJson(json));
        System.out.flush();
    }

    static Gson gson() {
        return GSON;
    }
}
