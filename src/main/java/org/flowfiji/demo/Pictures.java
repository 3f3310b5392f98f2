package org.flowfiji.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * PNG pictures drawn with {@code java.awt} into {@link BufferedImage}s: grey images with a display
 * range, colour-mapped maps, overlays, colour bars, labelled montages and line charts. Works in a
 * headless JVM ({@code java.awt.headless=true}): nothing here opens a window.
 */
public final class Pictures {
    private Pictures() {}

    static final Color BACKGROUND = Color.WHITE;
    static final Color INK = new Color(30, 30, 30);
    static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 13);

    /** Line colours of charts, in order. */
    static final Color[] SERIES = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
            new Color(148, 103, 189), new Color(255, 127, 14), new Color(23, 190, 207)};

    /**
     * A colour lookup table: control colours spaced evenly over [0, 1], interpolated linearly.
     * {@link #HEAT} runs from black through purple, red and orange to pale yellow; it stays
     * readable in grey scale because its brightness rises monotonically.
     */
    record Lut(Color... stops) {
        static final Lut HEAT = new Lut(new Color(0, 0, 4), new Color(60, 15, 110), new Color(150, 40, 120),
                new Color(225, 75, 70), new Color(250, 150, 40), new Color(252, 250, 180));

        /** Colour at t in [0, 1] (clamped) as packed RGB. */
        int rgb(double t) {
            if (!(t >= 0)) t = 0;
            if (t > 1) t = 1;
            double pos = t * (stops.length - 1);
            int i = Math.min(stops.length - 2, (int) pos);
            double f = pos - i;
            Color a = stops[i], b = stops[i + 1];
            int r = (int) Math.round(a.getRed() + f * (b.getRed() - a.getRed()));
            int g = (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen()));
            int bl = (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue()));
            return (r << 16) | (g << 8) | bl;
        }
    }

    /** Values at the given percentiles (0-100) of the finite values of one or more planes. */
    static double[] percentiles(List<float[]> planes, double... pct) {
        int n = 0;
        for (float[] p : planes) n += p.length;
        float[] all = new float[n];
        int k = 0;
        for (float[] p : planes) {
            for (float v : p) if (Float.isFinite(v)) all[k++] = v;
        }
        if (k == 0) {
            double[] zeros = new double[pct.length];
            return zeros;
        }
        Arrays.sort(all, 0, k);
        double[] out = new double[pct.length];
        for (int i = 0; i < pct.length; i++) {
            int idx = (int) Math.round(pct[i] / 100.0 * (k - 1));
            out[i] = all[Math.max(0, Math.min(k - 1, idx))];
        }
        return out;
    }

    /** A grey image: {@code lo} black, {@code hi} white, linear in between. */
    static BufferedImage grey(float[] plane, int w, int h, double lo, double hi) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        double span = hi > lo ? hi - lo : 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int g = (int) Math.round(255 * clamp((plane[y * w + x] - lo) / span));
                img.setRGB(x, y, (g << 16) | (g << 8) | g);
            }
        }
        return img;
    }

    /** A colour-mapped image: {@code lo} at the LUT's start, {@code hi} at its end. */
    static BufferedImage coloured(float[] plane, int w, int h, double lo, double hi, Lut lut) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        double span = hi > lo ? hi - lo : 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.setRGB(x, y, lut.rgb((plane[y * w + x] - lo) / span));
        }
        return img;
    }

    /**
     * A colour-mapped score over a grey image: each pixel blends the LUT colour of its score over
     * the grey value with weight {@code opacity * t}, t the score's position in [lo, hi], so
     * low scores leave the image visible and high scores light up.
     */
    static BufferedImage overlay(float[] image, double imageLo, double imageHi, float[] score, double lo, double hi,
                                 int w, int h, Lut lut, double opacity) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        double span = hi > lo ? hi - lo : 1;
        double ispan = imageHi > imageLo ? imageHi - imageLo : 1;
        for (int i = 0; i < w * h; i++) {
            double g = 255 * clamp((image[i] - imageLo) / ispan);
            double t = clamp((score[i] - lo) / span);
            int c = lut.rgb(t);
            double a = opacity * Math.sqrt(t);
            int r = (int) Math.round((1 - a) * g + a * ((c >> 16) & 255));
            int gg = (int) Math.round((1 - a) * g + a * ((c >> 8) & 255));
            int b = (int) Math.round((1 - a) * g + a * (c & 255));
            img.setRGB(i % w, i / w, (r << 16) | (gg << 8) | b);
        }
        return img;
    }

    /** The outline (4-connected boundary) of {@code mask > 0} drawn onto {@code img} in one colour. */
    static void outline(BufferedImage img, float[] mask, int w, int h, Color colour) {
        int rgb = colour.getRGB() & 0xFFFFFF;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (mask[y * w + x] <= 0) continue;
                boolean edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || mask[y * w + x - 1] <= 0
                        || mask[y * w + x + 1] <= 0 || mask[(y - 1) * w + x] <= 0 || mask[(y + 1) * w + x] <= 0;
                if (edge) img.setRGB(x, y, rgb);
            }
        }
    }

    /** Nearest-neighbour enlargement by an integer factor (pixels stay crisp). */
    static BufferedImage enlarge(BufferedImage in, int factor) {
        if (factor <= 1) return in;
        BufferedImage out = new BufferedImage(in.getWidth() * factor, in.getHeight() * factor, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < out.getHeight(); y++) {
            for (int x = 0; x < out.getWidth(); x++) out.setRGB(x, y, in.getRGB(x / factor, y / factor));
        }
        return out;
    }

    /** A new white canvas with anti-aliased text, and its graphics. */
    static BufferedImage canvas(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(BACKGROUND);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(INK);
        g.setFont(FONT);
        return g;
    }

    /** Draws text centred horizontally on {@code cx} with its baseline at {@code y}. */
    static void centred(Graphics2D g, String text, int cx, int y) {
        FontMetrics fm = g.getFontMetrics();
        g.drawString(text, cx - fm.stringWidth(text) / 2, y);
    }

    /**
     * A horizontal colour bar {@code w x h} at (x, y) with the values {@code lo} and {@code hi} at
     * its ends, the middle value in between, and a label under it.
     */
    static void colourBar(Graphics2D g, int x, int y, int w, int h, Lut lut, double lo, double hi, String label) {
        for (int i = 0; i < w; i++) {
            g.setColor(new Color(lut.rgb(i / (double) (w - 1))));
            g.drawLine(x + i, y, x + i, y + h - 1);
        }
        g.setColor(INK);
        g.drawRect(x, y, w - 1, h - 1);
        g.setFont(SMALL);
        FontMetrics fm = g.getFontMetrics();
        String a = number(lo), b = number(hi), m = number((lo + hi) / 2);
        int ty = y + h + fm.getAscent() + 1;
        g.drawString(a, x, ty);
        g.drawString(b, x + w - fm.stringWidth(b), ty);
        centred(g, m, x + w / 2, ty);
        centred(g, label, x + w / 2, ty + fm.getHeight());
        g.setFont(FONT);
    }

    /** A compact number for axes and colour bars. */
    static String number(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e5 || a < 1e-2)) return String.format(java.util.Locale.ROOT, "%.1e", v);
        if (a >= 100 || (v == Math.rint(v) && a < 1e5)) return String.format(java.util.Locale.ROOT, "%.0f", v);
        if (a >= 10) return String.format(java.util.Locale.ROOT, "%.1f", v);
        return String.format(java.util.Locale.ROOT, "%.2f", v);
    }

    /** One line of a chart: points (x[i], y[i]), drawn in {@code colour}, named in the legend. */
    record Series(String name, double[] x, double[] y, Color colour, boolean dashed) {}

    /**
     * A line chart with axes, ticks, axis labels, a title and a legend. Non-finite points are
     * skipped. {@code square} forces equal [0, 1] ranges on both axes (for ROC curves, with the
     * chance diagonal drawn).
     */
    static BufferedImage lineChart(String title, String xLabel, String yLabel, List<Series> series, int w, int h,
                                   boolean square) {
        BufferedImage img = canvas(w, h);
        Graphics2D g = graphics(img);
        int left = 62, right = 16, top = 30, bottom = 46;
        int pw = w - left - right, ph = h - top - bottom;
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) continue;
                x0 = Math.min(x0, s.x()[i]);
                x1 = Math.max(x1, s.x()[i]);
                y0 = Math.min(y0, s.y()[i]);
                y1 = Math.max(y1, s.y()[i]);
            }
        }
        if (square || !(x1 > x0)) {
            x0 = square ? 0 : x0 - 1;
            x1 = square ? 1 : x1 + 1;
        }
        if (square) {
            y0 = 0;
            y1 = 1;
        } else if (!(y1 > y0)) {
            y0 -= 1;
            y1 += 1;
        } else {
            double pad = 0.05 * (y1 - y0);
            y0 -= pad;
            y1 += pad;
        }
        final double fx0 = x0, fx1 = x1, fy0 = y0, fy1 = y1;
        java.util.function.DoubleUnaryOperator px = v -> left + (v - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator py = v -> top + ph - (v - fy0) / (fy1 - fy0) * ph;
        g.setFont(TITLE);
        centred(g, title, left + pw / 2, 19);
        g.setFont(SMALL);
        FontMetrics fm = g.getFontMetrics();
        for (double t : ticks(x0, x1)) {
            int xx = (int) Math.round(px.applyAsDouble(t));
            g.setColor(new Color(232, 232, 232));
            g.drawLine(xx, top, xx, top + ph);
            g.setColor(INK);
            g.drawLine(xx, top + ph, xx, top + ph + 4);
            centred(g, number(t), xx, top + ph + 6 + fm.getAscent());
        }
        for (double t : ticks(y0, y1)) {
            int yy = (int) Math.round(py.applyAsDouble(t));
            g.setColor(new Color(232, 232, 232));
            g.drawLine(left, yy, left + pw, yy);
            g.setColor(INK);
            g.drawLine(left - 4, yy, left, yy);
            String s = number(t);
            g.drawString(s, left - 6 - fm.stringWidth(s), yy + fm.getAscent() / 2 - 1);
        }
        g.setColor(INK);
        g.drawRect(left, top, pw, ph);
        g.setFont(FONT);
        centred(g, xLabel, left + pw / 2, h - 8);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        centred(gy, yLabel, -(top + ph / 2), 16);
        gy.dispose();
        if (square) {
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
            g.drawLine(left, top + ph, left + pw, top);
        }
        for (Series s : series) {
            g.setColor(s.colour());
            g.setStroke(s.dashed()
                    ? new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(1.8f));
            int lastX = Integer.MIN_VALUE, lastY = 0;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                    lastX = Integer.MIN_VALUE;
                    continue;
                }
                int xx = (int) Math.round(px.applyAsDouble(s.x()[i]));
                int yy = (int) Math.round(py.applyAsDouble(s.y()[i]));
                if (lastX != Integer.MIN_VALUE) g.drawLine(lastX, lastY, xx, yy);
                else if (s.x().length == 1) g.fillOval(xx - 2, yy - 2, 5, 5);
                lastX = xx;
                lastY = yy;
            }
        }
        g.setStroke(new BasicStroke(1f));
        g.setFont(SMALL);
        fm = g.getFontMetrics();
        int lw = 0;
        for (Series s : series) lw = Math.max(lw, fm.stringWidth(s.name()));
        int lx = left + pw - lw - 34, ly = square ? top + ph - 8 - series.size() * (fm.getHeight() + 2) : top + 8;
        g.setColor(new Color(255, 255, 255, 220));
        g.fillRect(lx - 4, ly - 2, lw + 34, series.size() * (fm.getHeight() + 2) + 4);
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            int yy = ly + i * (fm.getHeight() + 2) + fm.getAscent();
            g.setColor(s.colour());
            g.setStroke(s.dashed()
                    ? new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {4f, 3f}, 0f)
                    : new BasicStroke(1.8f));
            g.drawLine(lx, yy - fm.getAscent() / 2 + 1, lx + 22, yy - fm.getAscent() / 2 + 1);
            g.setColor(INK);
            g.drawString(s.name(), lx + 28, yy);
        }
        g.dispose();
        return img;
    }

    /** About five round tick values covering [lo, hi]. */
    static double[] ticks(double lo, double hi) {
        double span = hi - lo;
        double raw = span / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            step = m * mag;
            if (span / step <= 6) break;
        }
        double first = Math.ceil(lo / step) * step;
        int count = (int) Math.floor((hi - first) / step + 1e-9) + 1;
        double[] t = new double[Math.max(0, count)];
        for (int i = 0; i < t.length; i++) t[i] = first + i * step;
        return t;
    }

    /** Writes a PNG (folders must exist). */
    static void writePng(BufferedImage img, Path file) throws IOException {
        try (var out = Files.newOutputStream(file)) {
            if (!javax.imageio.ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer available to write " + file);
            }
        }
    }

    static double clamp(double t) {
        return t < 0 ? 0 : t > 1 ? 1 : Double.isNaN(t) ? 0 : t;
    }
}
