package org.flowfiji.ij1;

import ij.gui.GenericDialog;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.scijava.module.ModuleInfo;
import org.scijava.module.ModuleItem;

/**
 * An ImageJ 1.x {@link GenericDialog} built from a command's parameters. Each field's label is the
 * parameter name, which ImageJ also uses as the macro key, so what the Recorder writes runs unchanged
 * through the launchers and through Fiji's SciJava commands. Interactive sessions only.
 */
final class ParameterDialog {

    private ParameterDialog() {}

    /**
     * Shows the dialog with {@code initial} values and returns what the user chose, or null when the
     * dialog was cancelled.
     *
     * @throws IllegalArgumentException when a numeric field does not hold a number
     */
    static Map<String, Object> ask(ModuleInfo info, Map<String, Object> initial) {
        List<ModuleItem<?>> items = MacroOptions.userInputs(info);
        GenericDialog gd = new GenericDialog(info.getTitle());
        for (ModuleItem<?> item : items) {
            String key = item.getName();
            Object v = initial.get(key);
            Class<?> type = item.getType();
            if (type == boolean.class || type == Boolean.class) {
                gd.addCheckbox(key, Boolean.TRUE.equals(v));
            } else if (type == File.class) {
                gd.addFileField(key, v == null ? "" : ((File) v).getPath(), 28);
            } else if (type == String.class && item.getChoices() != null && !item.getChoices().isEmpty()) {
                List<String> choices = new ArrayList<>();
                for (Object c : item.getChoices()) choices.add(c.toString());
                gd.addChoice(key, choices.toArray(new String[0]), v == null ? choices.get(0) : v.toString());
            } else if (type == String.class) {
                gd.addStringField(key, v == null ? "" : v.toString(), 12);
            } else {
                double d = v == null ? 0 : ((Number) v).doubleValue();
                gd.addNumericField(key, d, digits(type, d), 8, hint(item.getDescription()));
            }
        }
        gd.showDialog();
        if (gd.wasCanceled()) return null;
        Map<String, Object> values = new LinkedHashMap<>();
        for (ModuleItem<?> item : items) {
            String key = item.getName();
            Class<?> type = item.getType();
            if (type == boolean.class || type == Boolean.class) {
                values.put(key, gd.getNextBoolean());
            } else if (type == File.class) {
                String s = gd.getNextString().trim();
                values.put(key, s.isEmpty() ? null : new File(s));
            } else if (type == String.class && item.getChoices() != null && !item.getChoices().isEmpty()) {
                values.put(key, gd.getNextChoice());
            } else if (type == String.class) {
                values.put(key, gd.getNextString().trim());
            } else {
                double d = gd.getNextNumber();
                if (gd.invalidNumber()) throw new IllegalArgumentException(key + " must be a number");
                values.put(key, MacroOptions.convert(item, MacroOptions.formatValue(d)));
            }
        }
        return values;
    }

    /** The part of a description in parentheses, shown after a numeric field ("0 = default"), or "". */
    static String hint(String description) {
        if (description == null) return "";
        int open = description.indexOf('('), close = description.lastIndexOf(')');
        return open >= 0 && close > open ? description.substring(open + 1, close) : "";
    }

    /** Decimal places for a numeric field: none for whole numbers, scientific notation for tiny values. */
    static int digits(Class<?> type, double value) {
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class) return 0;
        if (value != 0 && Math.abs(value) < 0.01) return -2;
        if (value == Math.rint(value)) return 1;
        return 3;
    }
}
