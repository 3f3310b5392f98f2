package org.flowfiji.fiji;

import ij.Macro;
import java.util.HashMap;
import java.util.Map;
import org.scijava.Context;
import org.scijava.convert.ConvertService;
import org.scijava.module.ModuleInfo;
import org.scijava.module.ModuleItem;

/**
 * Reads macro options the way Fiji hands them to a SciJava command: for every input, the value of
 * {@code Macro.getValue(options, name)} converted to the input's type by the {@link ConvertService}.
 */
public final class FijiMacroInputs {

    private FijiMacroInputs() {}

    public static Map<String, Object> read(Context context, ModuleInfo info, String options) {
        ConvertService convert = context.service(ConvertService.class);
        Map<String, Object> inputs = new HashMap<>();
        for (ModuleItem<?> input : info.inputs()) {
            String value = Macro.getValue(options + " ", input.getName(), null);
            if (value == null || !convert.supports(value, input.getType())) continue;
            inputs.put(input.getName(), convert.convert(value, input.getType()));
        }
        return inputs;
    }
}
