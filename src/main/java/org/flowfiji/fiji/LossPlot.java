package org.flowfiji.fiji;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.FontMetrics;
import java.awt.Graphics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.util.ArrayList;
import java.util.List;
import javax.swing.JComponent;

/**
 * A live line plot of training and validation bits/dim against iterations, drawn with Java2D.
 *
 * <p>Points may be added from any thread; painting happens on the event dispatch thread. The y range
 * leaves out the first tenth of the iterations once enough points exist, so the steep start does not
 * flatten the rest of the curve.
 */
final class LossPlot extends JComponent {

    static final Color TRAIN = new Color(0x1f77b4);
    static final Color VALIDATION = new Color(0xff7f0e);

    private final List<double[]> train = new ArrayList<>();
    private final List<double[]> validation = new ArrayList<>();
    private long maxIteration;

    LossPlot(long totalIterations) {
        this.maxIteration = Math.max(1, totalIterations);
        setPreferredSize(new Dimension(620, 340));
        setBackground(Color.WHITE);
        setOpaque(true);
    }

    synchronized void addTrain(long iteration, double bitsPerDim) {
        if (Double.isFinite(bitsPerDim)) train.add(new double[] {iteration, bitsPerDim});
        maxIteration = Math.max(maxIteration, iteration);
    }

    synchronized void addValidation(long iteration, double bitsPerDim) {
        if (Double.isFinite(bitsPerDim)) validation.add(new double[] {iteration, bitsPerDim});
        maxIteration = Math.max(maxIteration, iteration);
    }

    @Override
    protected synchronized void paintComponent(Graphics graphics) {
        Graphics2D g = (Graphics2D) graphics.create();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        int w = getWidth(), h = getHeight();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        FontMetrics fm = g.getFontMetrics();
        int left = 62, right = 16, top = 28, bottom = 44;
        int pw = w - left - right, ph = h - top - bottom;
        if (pw < 20 || ph < 20) return;

        double[] yr = yRange();
        double x0 = 0, x1 = maxIteration;
        g.setColor(new Color(0xf4f4f4));
        g.fillRect(left, top, pw, ph);

        // grid and ticks
        g.setStroke(new BasicStroke(1f));
        List<Double> yTicks = ticks(yr[0], yr[1], 6);
        for (double v : yTicks) {
            int y = top + ph - (int) Math.round((v - yr[0]) / (yr[1] - yr[0]) * ph);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, y, left + pw, y);
            g.setColor(Color.DARK_GRAY);
            String s = format(v, yTicks.size() > 1 ? yTicks.get(1) - yTicks.get(0) : 1);
            g.drawString(s, left - 6 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
        }
        for (double v : ticks(x0, x1, 8)) {
            int x = left + (int) Math.round((v - x0) / (x1 - x0) * pw);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, top, x, top + ph);
            g.setColor(Color.DARK_GRAY);
            String s = String.format("%.0f", v);
            g.drawString(s, x - fm.stringWidth(s) / 2, top + ph + fm.getAscent() + 4);
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, pw, ph);
        g.setColor(Color.BLACK);
        String xl = "iteration";
        g.drawString(xl, left + pw / 2 - fm.stringWidth(xl) / 2, h - 8);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        String yl = "bits/dim";
        gy.drawString(yl, -(top + ph / 2) - fm.stringWidth(yl) / 2, 14);
        gy.dispose();

        // curves, clipped to the plot area
        Graphics2D gc = (Graphics2D) g.create();
        gc.clipRect(left, top, pw + 1, ph + 1);
        gc.setStroke(new BasicStroke(1.4f));
        drawSeries(gc, train, TRAIN, left, top, pw, ph, x0, x1, yr, false);
        gc.setStroke(new BasicStroke(2f));
        drawSeries(gc, validation, VALIDATION, left, top, pw, ph, x0, x1, yr, true);
        gc.dispose();

        // legend
        int lx = left + pw - 170, ly = 8;
        legend(g, lx, ly + fm.getAscent() / 2 + 6, TRAIN, "training");
        legend(g, lx + 85, ly + fm.getAscent() / 2 + 6, VALIDATION, "validation");
        if (train.isEmpty()) {
            g.setColor(Color.GRAY);
            String s = "waiting for the first iteration...";
            g.drawString(s, left + pw / 2 - fm.stringWidth(s) / 2, top + ph / 2);
        }
        g.dispose();
    }

    private static void legend(Graphics2D g, int x, int y, Color c, String label) {
        g.setColor(c);
        g.setStroke(new BasicStroke(2f));
        g.drawLine(x, y - 4, x + 18, y - 4);
        g.setColor(Color.BLACK);
        g.drawString(label, x + 22, y);
    }

    private static void drawSeries(Graphics2D g, List<double[]> pts, Color c, int left, int top, int pw, int ph,
                                   double x0, double x1, double[] yr, boolean markers) {
        if (pts.isEmpty()) return;
        g.setColor(c);
        Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < pts.size(); i++) {
            double x = left + (pts.get(i)[0] - x0) / (x1 - x0) * pw;
            double y = top + ph - (pts.get(i)[1] - yr[0]) / (yr[1] - yr[0]) * ph;
            if (i == 0) path.moveTo(x, y);
            else path.lineTo(x, y);
            if (markers) g.fillOval((int) Math.round(x) - 3, (int) Math.round(y) - 3, 6, 6);
        }
        g.draw(path);
    }

    /** [min, max] of the values worth showing, padded by 5%. */
    private double[] yRange() {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        double skipBelow = train.size() > 20 ? maxIteration * 0.1 : -1;
        for (List<double[]> series : List.of(train, validation))
            for (double[] p : series)
                if (p[0] >= skipBelow) {
                    lo = Math.min(lo, p[1]);
                    hi = Math.max(hi, p[1]);
                }
        if (!Double.isFinite(lo)) return new double[] {0, 1};
        double pad = Math.max((hi - lo) * 0.05, 1e-3);
        return new double[] {lo - pad, hi + pad};
    }

    /** Round tick values between lo and hi, about {@code n} of them. */
    static List<Double> ticks(double lo, double hi, int n) {
        List<Double> t = new ArrayList<>();
        double span = hi - lo;
        if (!(span > 0)) return t;
        double raw = span / n;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
        for (double v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        return t;
    }

    /** A tick label with as many decimals as the tick step needs. */
    private static String format(double v, double step) {
        int decimals = step >= 1 ? 0 : (int) Math.ceil(-Math.log10(step) - 1e-9);
        return String.format("%." + decimals + "f", v);
    }
}
