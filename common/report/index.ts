export { linePlot, type LinePlotOptions, type PlotSeries } from "./line-plot.js";
export { renderHtmlReport, writeHtmlReport, formatNumber, type HtmlReport, type ReportSection, type TableCell } from "./html-report.js";
export { niceTicks, niceStep, type Ticks } from "./ticks.js";
