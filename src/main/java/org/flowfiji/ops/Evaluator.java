package org.flowfiji.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.flowfiji.data.ImageData;
import org.flowfiji.data.PlaneSource;
import org.flowfiji.model.Engines;
import org.flowfiji.model.FlowModel;

/**
 * The log-likelihood of every plane of an image under a model, in raw intensity units.
 *
 * <p>Defined exactly as the sum of the plane's exact likelihood map (see {@link Mapper}): for
 * planes whose sides are multiples of 2^levels this is {@code log p(plane)}; integer data are
 * evaluated at the bin centres ({@code u = 0.5}). Bits/dim is {@code -log p / (D ln 2)}, D = C*H*W.
 * Small planes (up to a tile, sides multiples of 2^levels, not IAF-limited) are evaluated many at a
 * time in one batched density pass, which gives the same numbers as the map.
 */
public final class Evaluator {
    private Evaluator() {}

    /** Planes per batched pass are chosen so that a batch holds about this many pixels. */
    static final int BATCH_PIXELS = 256 * 1024;

    public static EvalResult evaluate(FlowModel model, ImageData data, ProgressListener progress, Cancellation cancel) {
        try (Engines.Inference noGrad = Engines.inference()) {
            return evaluatePlanes(model, data, progress, cancel);
        }
    }

    private static EvalResult evaluatePlanes(FlowModel model, ImageData data, ProgressListener progress, Cancellation cancel) {
        Mapper.checkCompatible(model, data);
        if (progress == null) progress = ProgressListener.NONE;
        if (cancel == null) cancel = new Cancellation();
        int m = model.config().sizeMultiple();
        int h = data.height();
        int w = data.width();
        int n = data.planeCount();
        int ch = data.channels();
        double dims = (double) data.planeSize();
        double ln2 = Math.log(2);
        List<Double> ll = new ArrayList<>(n);
        List<Double> bpd = new ArrayList<>(n);
        boolean batched = h % m == 0 && w % m == 0 && (long) h * w <= (long) Mapper.DEFAULT_TILE * Mapper.DEFAULT_TILE;
        if (batched) {
            int batch = (int) Math.max(1, Math.min(n, BATCH_PIXELS / ((long) h * w)));
            double dequant = model.isInteger() ? 0.5 : 0.0;
            double logJac = dims * model.normalizer().logJacobianPerElement();
            float[] buf = new float[batch * ch * h * w];
            for (int start = 0; start < n; start += batch) {
                cancel.check();
                int b = Math.min(batch, n - start);
                for (int k = 0; k < b; k++) {
                    PlaneTensors.copyNormalized(PlaneSource.of(data, start + k), 0, 0, h, w, model.normalizer(), dequant, buf, k);
                }
                try (NDManager scope = model.manager().newSubManager()) {
                    float[] arr = b == batch ? buf : java.util.Arrays.copyOf(buf, b * ch * h * w);
                    NDArray x = PlaneTensors.create(scope, arr, b, ch, h, w);
                    float[] out = model.flow().forward(model.evalContext(scope, false), x).logLikelihood().toFloatArray();
                    for (int k = 0; k < b; k++) {
                        double logp = out[k] + logJac;
                        ll.add(logp);
                        bpd.add(-logp / (dims * ln2));
                    }
                }
                progress.progress("Evaluate", start + b, n);
            }
        } else {
            for (int p = 0; p < n; p++) {
                cancel.check();
                double logp = Mapper.sum(Mapper.exactPlane(model, data, p, 0, ProgressListener.NONE, cancel));
                ll.add(logp);
                bpd.add(-logp / (dims * ln2));
                progress.progress("Evaluate", p + 1, n);
            }
        }
        return new EvalResult(ll, bpd);
    }
}
