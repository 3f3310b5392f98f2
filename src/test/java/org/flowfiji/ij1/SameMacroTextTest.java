package org.flowfiji.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.flowfiji.fiji.FijiMacroInputs;
import org.flowfiji.fiji.FlowLikelihoodMapCommand;
import org.flowfiji.fiji.FlowSampleCommand;
import org.flowfiji.fiji.FlowTrainCommand;
import org.flowfiji.fiji.MacroTexts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.Command;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandService;
import org.scijava.convert.ConvertService;

/** The launchers read a macro text into the same input values Fiji gives the SciJava command. */
class SameMacroTextTest {

    private static Context context;

    @BeforeAll
    static void createContext() {
        context = new Context(CommandService.class, ConvertService.class);
    }

    @AfterAll
    static void dispose() {
        context.dispose();
    }

    private static void assertSameInputs(Class<? extends Command> command, String options) {
        CommandInfo info = context.service(CommandService.class).getCommand(command);
        Map<String, Object> launcher = MacroOptions.parse(info, options);
        Map<String, Object> fiji = FijiMacroInputs.read(context, info, options);
        assertEquals(fiji, launcher, info.getTitle() + ": " + options);
    }

    @Test
    void contractMacrosReadTheSameWay() {
        assertSameInputs(FlowTrainCommand.class, MacroTexts.train("/data/my models/cells.flow"));
        assertSameInputs(FlowSampleCommand.class, MacroTexts.sample("/data/cells.flow"));
        assertSameInputs(FlowLikelihoodMapCommand.class, MacroTexts.map("/data/cells.flow"));
        assertSameInputs(FlowSampleCommand.class, "model_file=[/data/nuclei.flow] count=16 temperature=0.7 seed=1");
        assertSameInputs(FlowTrainCommand.class, "architecture=IAF teacher_model=/data/glow.flow minutes=2.5 iterations=0 "
                + "model_file=/data/iaf.flow continue_from=/data/iaf0.flow use_roi=true device=gpu:1");
        assertSameInputs(FlowLikelihoodMapCommand.class,
                "model_file=/m.flow mode=window reference_model=[/r r.flow] units=bits show_overlay=false opacity=70 lut=Spectrum");
    }
}
