package org.flowfiji.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * Chooses the device a model runs on, explicitly: "auto" (the first GPU when the engine has one,
 * else the CPU), "cpu", "gpu" (GPU 0) or "gpu:i".
 *
 * <p>A GPU is used only when DJL's CUDA build of PyTorch is on the class path (see the user guide);
 * asking for one without it is an error, never a silent fall-back.
 */
public final class Devices {
    private Devices() {}

    public static Device select(String name) {
        String n = name == null ? "auto" : name.trim().toLowerCase(Locale.ROOT);
        Engine engine = Engines.pytorch();
        if (n.isEmpty() || n.equals("auto")) {
            return engine.getGpuCount() > 0 ? Device.gpu(0) : Device.cpu();
        }
        if (n.equals("cpu")) return Device.cpu();
        if (n.equals("gpu") || n.equals("cuda") || n.startsWith("gpu:") || n.startsWith("cuda:")) {
            int index = 0;
            int colon = n.indexOf(':');
            if (colon >= 0) {
                try {
                    index = Integer.parseInt(n.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("Unknown device '" + name + "': use auto, cpu, gpu or gpu:N");
                }
            }
            int count = engine.getGpuCount();
            if (index >= count) {
                throw new IllegalArgumentException("Device '" + name + "' is not available: this machine's PyTorch engine sees "
                        + count + " GPU(s). Install the CUDA build of DJL's PyTorch natives (see docs/gpu.md) or use device=cpu.");
            }
            return Device.gpu(index);
        }
        throw new IllegalArgumentException("Unknown device '" + name + "': use auto, cpu, gpu or gpu:N");
    }
}
