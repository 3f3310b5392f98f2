package org.flowfiji.ij1;

import ij.ImagePlus;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.scijava.Context;
import org.scijava.ItemVisibility;
import org.scijava.module.ModuleInfo;
import org.scijava.module.ModuleItem;
import org.scijava.service.Service;

/**
 * Reads and writes the macro options of a command ({@code "model_file=[/data/a model.flow] count=16"}).
 *
 * <p>The keys are the command's parameter names, the same keys Fiji passes to the SciJava command
 * ({@code key=value}, as {@code ij.Macro.getValue} reads them). Booleans take {@code key=true} or
 * {@code key=false}; a bare {@code key} (ImageJ 1.x checkbox style) means true. Values with spaces go in
 * square brackets; text inside brackets is never taken for a key. Unknown keys are refused so a typo
 * does not silently fall back to a default.
 */
public final class MacroOptions {

    /** The key naming the input image by title (the active image when absent). */
    public static final String IMAGE_KEY = "image";

    private MacroOptions() {}

    /** The inputs a user sets: everything but services, the context and the input image. */
    public static List<ModuleItem<?>> userInputs(ModuleInfo info) {
        List<ModuleItem<?>> items = new ArrayList<>();
        for (ModuleItem<?> item : info.inputs()) {
            Class<?> type = item.getType();
            if (Service.class.isAssignableFrom(type) || Context.class.isAssignableFrom(type)) continue;
            if (ImagePlus.class.isAssignableFrom(type)) continue;
            if (item.getVisibility() == ItemVisibility.MESSAGE) continue;
            items.add(item);
        }
        return items;
    }

    /** The name of the command's image input, or null when it takes none. */
    public static String imageInput(ModuleInfo info) {
        for (ModuleItem<?> item : info.inputs())
            if (ImagePlus.class.isAssignableFrom(item.getType())) return item.getName();
        return null;
    }

    /**
     * The values given in {@code options}, converted to the inputs' types; keys that are absent are left
     * out (the command keeps its defaults). The image key, when present, is returned as its title.
     *
     * @throws IllegalArgumentException for an unknown key or a value that does not fit its input
     */
    public static Map<String, Object> parse(ModuleInfo info, String options) {
        String opts = options == null ? "" : options;
        if (!opts.endsWith(" ")) opts = opts + " ";
        List<ModuleItem<?>> items = userInputs(info);
        Set<String> known = new LinkedHashSet<>();
        for (ModuleItem<?> item : items) known.add(item.getName().toLowerCase(Locale.ROOT));
        String image = imageInput(info);
        for (String key : tokens(opts).keySet())
            if (!known.contains(key) && !(image != null && key.equals(IMAGE_KEY)))
                throw new IllegalArgumentException("Unknown option '" + key + "' for " + info.getTitle()
                        + ": the options are " + String.join(", ", known));
        Map<String, String> given = tokens(opts);
        Map<String, Object> values = new LinkedHashMap<>();
        for (ModuleItem<?> item : items) {
            String key = item.getName();
            String lower = key.toLowerCase(Locale.ROOT);
            if (!given.containsKey(lower)) continue;
            String raw = given.get(lower);
            if (raw == null && isBoolean(item.getType())) values.put(key, Boolean.TRUE);
            else if (raw == null) throw new IllegalArgumentException(key + " needs a value: " + key + "=...");
            else values.put(key, convert(item, raw));
        }
        if (image != null && given.get(IMAGE_KEY) != null) values.put(IMAGE_KEY, given.get(IMAGE_KEY));
        return values;
    }

    /** Converts one macro value to the type of {@code item}, checking choices and integer types. */
    static Object convert(ModuleItem<?> item, String raw) {
        String key = item.getName();
        Class<?> type = item.getType();
        String value = raw.trim();
        if (type == String.class) {
            List<?> choices = item.getChoices();
            if (choices == null || choices.isEmpty()) return raw;
            for (Object c : choices)
                if (c.toString().equalsIgnoreCase(value)) return c.toString();
            List<String> names = new ArrayList<>();
            for (Object c : choices) names.add(c.toString());
            throw new IllegalArgumentException(key + "=" + raw + " is not one of " + String.join(", ", names));
        }
        if (type == File.class) return value.isEmpty() ? null : new File(value);
        if (isBoolean(type)) return parseBoolean(key, value);
        double number;
        try {
            number = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + raw + " is not a number");
        }
        if (type == double.class || type == Double.class) return number;
        if (type == float.class || type == Float.class) return (float) number;
        if (number != Math.rint(number))
            throw new IllegalArgumentException(key + "=" + raw + " must be a whole number");
        if (type == int.class || type == Integer.class) {
            if (Math.abs(number) > Integer.MAX_VALUE) throw new IllegalArgumentException(key + "=" + raw + " is too large");
            return (int) number;
        }
        if (type == long.class || type == Long.class) return (long) number;
        throw new IllegalArgumentException(key + " has a type macros cannot set: " + type.getSimpleName());
    }

    /**
     * Formats values as macro options in the given order: {@code key=value}, booleans as true/false,
     * whole numbers without a decimal point, values with spaces in square brackets, nulls left out.
     */
    public static String format(Map<String, ?> values) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            String v = formatValue(e.getValue());
            if (v == null) continue;
            if (b.length() > 0) b.append(' ');
            b.append(e.getKey()).append('=').append(v.contains(" ") || v.isEmpty() ? "[" + v + "]" : v);
        }
        return b.toString();
    }

    /** One value as macro text, or null for null. */
    static String formatValue(Object v) {
        if (v == null) return null;
        if (v instanceof File f) return f.getPath();
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
            return Double.toString(d);
        }
        return v.toString();
    }

    /** The keys present in {@code options}, lower case, in order. */
    static Set<String> keys(String options) {
        return tokens(options).keySet();
    }

    /**
     * The {@code key=value} pairs of {@code options} in order, keys in lower case; a bare key maps to null.
     * A value in square brackets runs to the closing bracket, so keys inside it are not seen as keys.
     */
    static Map<String, String> tokens(String options) {
        Map<String, String> tokens = new LinkedHashMap<>();
        int i = 0, n = options.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(options.charAt(i))) i++;
            int start = i;
            while (i < n && options.charAt(i) != '=' && !Character.isWhitespace(options.charAt(i))) i++;
            if (i == start) {
                i++;
                continue;
            }
            String key = options.substring(start, i).toLowerCase(Locale.ROOT);
            String value = null;
            if (i < n && options.charAt(i) == '=') {
                i++;
                if (i < n && options.charAt(i) == '[') {
                    int close = options.indexOf(']', i);
                    value = options.substring(i + 1, close < 0 ? n : close);
                    i = close < 0 ? n : close + 1;
                } else {
                    int from = i;
                    while (i < n && !Character.isWhitespace(options.charAt(i))) i++;
                    value = options.substring(from, i);
                }
            }
            tokens.put(key, value);
        }
        return tokens;
    }

    private static boolean isBoolean(Class<?> type) {
        return type == boolean.class || type == Boolean.class;
    }

    private static Boolean parseBoolean(String key, String raw) {
        String v = raw.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true")) return Boolean.TRUE;
        if (v.equals("false")) return Boolean.FALSE;
        throw new IllegalArgumentException(key + "=" + raw + " must be true or false");
    }
}
