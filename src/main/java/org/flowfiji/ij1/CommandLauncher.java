package org.flowfiji.ij1;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.macro.Interpreter;
import ij.plugin.PlugIn;
import ij.plugin.frame.Recorder;
import java.awt.GraphicsEnvironment;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.flowfiji.fiji.FlowCommand;
import org.scijava.command.Command;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;
import org.scijava.module.ModuleService;

/**
 * Runs one of the SciJava flow commands from plain ImageJ 1.x (listed in {@code plugins.config}).
 *
 * <p>The inputs come from the macro options when a macro calls the command (the same keys as in Fiji),
 * from a {@link ParameterDialog} in an interactive session (recorded by the Recorder in the same
 * {@code key=value} form), and from the command's defaults in a headless JVM without options. The image
 * input is the active image, or the one named by {@code image=[title]}. Output images are shown (in batch
 * mode they become batch-mode images a macro can select and save). Errors are shown with
 * {@link IJ#error} and abort the calling macro.
 */
public abstract class CommandLauncher implements PlugIn {

    /** Values chosen in the dialog per command, offered again next time in this session. */
    private static final Map<Class<?>, Map<String, Object>> REMEMBERED = new ConcurrentHashMap<>();

    private final Class<? extends Command> commandClass;

    protected CommandLauncher(Class<? extends Command> commandClass) {
        this.commandClass = commandClass;
    }

    @Override
    public void run(String arg) {
        String label = commandClass.getSimpleName();
        try {
            CommandService commands = LauncherContext.get().service(CommandService.class);
            CommandInfo info = commands.getCommand(commandClass);
            if (info == null)
                throw new IllegalStateException(commandClass.getName() + " is not in the SciJava plugin index: "
                        + "reinstall the plugin jar (it must contain META-INF/json/org.scijava.plugin.Plugin)");
            label = info.getTitle();
            Map<String, Object> inputs = inputs(commands, info);
            if (inputs == null) return;
            CommandModule module = execute(commands, info, inputs);
            report(label, module);
        } catch (IllegalArgumentException | IllegalStateException e) {
            error(label, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(label, "interrupted");
        } catch (ExecutionException e) {
            error(label, String.valueOf(e.getCause()));
        }
    }

    /** The inputs for this run, or null when the user cancelled the dialog or there is no image. */
    private Map<String, Object> inputs(CommandService commands, CommandInfo info) {
        String options = Macro.getOptions();
        Map<String, Object> values;
        if (options != null) {
            values = MacroOptions.parse(info, options);
        } else if (GraphicsEnvironment.isHeadless()) {
            values = new HashMap<>();
        } else {
            Map<String, Object> initial = defaults(commands, info);
            initial.putAll(REMEMBERED.getOrDefault(commandClass, Map.of()));
            values = ParameterDialog.ask(info, initial);
            if (values == null) return null;
            REMEMBERED.put(commandClass, new HashMap<>(values));
            record(values);
        }
        String imageInput = MacroOptions.imageInput(info);
        Object title = values.remove(MacroOptions.IMAGE_KEY);
        if (imageInput != null) {
            ImagePlus imp = title == null ? WindowManager.getCurrentImage() : WindowManager.getImage(title.toString());
            if (imp == null) {
                if (title != null) throw new IllegalArgumentException("no open image is called '" + title + "'");
                IJ.noImage();
                return null;
            }
            values.put(imageInput, imp);
        }
        return values;
    }

    /** The command's default values (its field initialisers). */
    private static Map<String, Object> defaults(CommandService commands, CommandInfo info) {
        Map<String, Object> values = new LinkedHashMap<>();
        try {
            Module module = commands.getContext().service(ModuleService.class).createModule(info);
            for (ModuleItem<?> item : MacroOptions.userInputs(info)) values.put(item.getName(), item.getValue(module));
        } catch (RuntimeException e) {
            IJ.log(info.getTitle() + ": could not read the defaults (" + e.getMessage() + ")");
        }
        return values;
    }

    /** Records the chosen values as {@code key=value} options, the form Fiji's commands read. */
    private static void record(Map<String, Object> values) {
        if (!Recorder.record) return;
        Recorder.resetCommandOptions();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            String v = MacroOptions.formatValue(e.getValue());
            if (v != null) Recorder.recordOption(e.getKey(), v);
        }
    }

    private CommandModule execute(CommandService commands, CommandInfo info, Map<String, Object> inputs)
            throws InterruptedException, ExecutionException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(commandClass.getClassLoader());
        try {
            return commands.run(info, true, inputs).get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Shows output images and reports failures. */
    private static void report(String label, CommandModule module) {
        if (module.isCanceled()) {
            boolean failed = module.getCommand() instanceof FlowCommand fc && fc.hasFailed();
            if (failed) error(label, module.getCancelReason());
            else IJ.showStatus(module.getCancelReason());
            return;
        }
        for (ModuleItem<?> item : module.getInfo().outputs()) {
            if (item.getValue(module) instanceof ImagePlus imp) show(imp);
        }
    }

    private static void show(ImagePlus imp) {
        if (GraphicsEnvironment.isHeadless() && !Interpreter.isBatchMode()) {
            WindowManager.setTempCurrentImage(imp);
            return;
        }
        imp.show();
    }

    /**
     * Reports an error: a message box when ImageJ's window is up and no batch macro runs, otherwise a
     * log line (a message box would block a batch job). A running macro is aborted.
     */
    private static void error(String label, String message) {
        String text = message == null || message.isBlank() ? "failed" : message;
        if (text.startsWith(label + ": ")) text = text.substring(label.length() + 2);
        boolean macro = IJ.isMacro() || Interpreter.getInstance() != null;
        if (IJ.getInstance() != null && !Interpreter.isBatchMode()) IJ.error(label, text);
        else IJ.log("Error: " + label + ": " + text);
        if (macro) Interpreter.abort();
    }
}
