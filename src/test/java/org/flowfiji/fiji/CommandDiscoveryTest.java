package org.flowfiji.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.flowfiji.ij1.MacroOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.scijava.Cancelable;
import org.scijava.Context;
import org.scijava.ItemIO;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandService;
import org.scijava.module.ModuleInfo;
import org.scijava.module.ModuleItem;
import org.scijava.module.ModuleService;

/** A SciJava context finds the three commands by label and menu path, with the macro keys of the contract. */
class CommandDiscoveryTest {

    private static Context context;

    @BeforeAll
    static void createContext() {
        context = new Context(CommandService.class, ModuleService.class);
    }

    @AfterAll
    static void dispose() {
        context.dispose();
    }

    private static CommandInfo byLabel(String label) {
        List<CommandInfo> found = new ArrayList<>();
        for (CommandInfo info : context.service(CommandService.class).getCommands())
            if (label.equals(info.getTitle())) found.add(info);
        assertEquals(1, found.size(), "exactly one command labelled '" + label + "'");
        return found.get(0);
    }

    @Test
    void findsTheThreeCommandsByLabelAndMenuPath() {
        Map<String, Class<?>> expected = Map.of(
                "Flow Train on Stack", FlowTrainCommand.class,
                "Flow Sample", FlowSampleCommand.class,
                "Flow Likelihood Map", FlowLikelihoodMapCommand.class);
        for (Map.Entry<String, Class<?>> e : expected.entrySet()) {
            CommandInfo info = byLabel(e.getKey());
            assertEquals(e.getValue().getName(), info.getClassName());
            assertEquals("Plugins > Normalizing Flows > " + e.getKey(), info.getMenuPath().getMenuString());
            assertTrue(info.canCancel() || Cancelable.class.isAssignableFrom(e.getValue()), e.getKey() + " is cancelable");
        }
        ModuleService modules = context.service(ModuleService.class);
        long inMenu = modules.getModules().stream()
                .filter(m -> m.getMenuPath() != null && m.getMenuPath().getMenuString().startsWith("Plugins > Normalizing Flows"))
                .count();
        assertEquals(3, inMenu, "three modules under Plugins > Normalizing Flows");
    }

    @Test
    void trainingKeysAreTheMacroContract() {
        assertKeys(byLabel(FlowTrainCommand.LABEL), Set.of("architecture", "patch_size", "levels", "steps", "hidden_channels",
                "batch_size", "iterations", "minutes", "learning_rate", "validation_fraction", "seed", "device",
                "model_file", "use_roi", "continue_from", "teacher_model"));
        CommandInfo info = byLabel(FlowTrainCommand.LABEL);
        assertEquals(List.of("RealNVP", "Glow", "IAF"), info.getInput("architecture").getChoices());
        assertEquals(File.class, info.getInput("model_file").getType());
        assertEquals(ImagePlus.class, info.getInput("image").getType());
    }

    @Test
    void sampleKeysAreTheMacroContract() {
        CommandInfo info = byLabel(FlowSampleCommand.LABEL);
        assertKeys(info, Set.of("model_file", "count", "width", "height", "temperature", "seed", "device"));
        assertOutput(info, "samples");
    }

    @Test
    void likelihoodMapKeysAreTheMacroContract() {
        CommandInfo info = byLabel(FlowLikelihoodMapCommand.LABEL);
        assertKeys(info, Set.of("model_file", "mode", "reference_model", "units", "show_overlay", "opacity", "lut", "device"));
        assertEquals(List.of("exact", "window"), info.getInput("mode").getChoices());
        assertEquals(List.of("nats", "bits"), info.getInput("units").getChoices());
        assertEquals(List.of(LikelihoodOverlay.LUTS), info.getInput("lut").getChoices());
        assertOutput(info, "map");
    }

    private static void assertKeys(ModuleInfo info, Set<String> keys) {
        Set<String> names = new TreeSet<>();
        for (ModuleItem<?> item : MacroOptions.userInputs(info)) names.add(item.getName());
        assertEquals(new TreeSet<>(keys), names, info.getTitle() + " macro keys");
    }

    private static void assertOutput(ModuleInfo info, String name) {
        ModuleItem<?> out = info.getOutput(name);
        assertNotNull(out, info.getTitle() + " declares output " + name);
        assertEquals(ImagePlus.class, out.getType());
        assertEquals(ItemIO.OUTPUT, out.getIOType());
    }
}
