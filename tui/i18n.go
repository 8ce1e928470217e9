package tui

// texts are the interface's words in one language. Data labels come from
// the field inventory, which carries both languages.
type texts struct {
	dimensions, measure, filters, none, by, withheld, rows, query            string
	loading, noRows, top                                                     string
	summarising, summaryFailed                                               string
	keyUp, keyDown, keyFocus, keyFocusBack, keySecond, keyMeasure, keyFilter string
	keyClear, keySort, keyTop, keyCancel, keyHelp, keyQuit                   string
	cancelled, tooSmall                                                      string
	keyAck, gateTitle, gateLicence, gatePurpose, gateLicensee, gateLicensor  string
	gatePeriod, gateDaysLeft, gateRegion, gateK, gatePeople                  string
	gateDeletion, gateDeletionText, gateYou, gateTerms, gateAck              string
	keyLog, keyRefresh, logTitle, logNone, logOK, logBad, logTorn            string
	gateTZ                                                                   string
	keyCompliance, keyDelete, compTitle, compHeader, compLogOK, compLogBad   string
	compConfirm, compNoMatch, compDeleting, compDone                         string
	orderAuto, orderValueDesc, orderValueAsc, orderLabel                     string
	nobody, keyChart                                                         string
	lockTitle, lockWatermark, lockPrompt, lockChecking, lockWrong            string
	keyUndo, keyRedo                                                         string
	keySaveView, keyViews, keyOpenView, keyRemoveView, viewsTitle, viewName  string
	viewsNone, viewSaved, viewStale                                          string
	keyDrill, keyCompare, keyPalette, keyPick, compareLegend, everyone       string
	diff, lift, chartBars, chartColumns, chartLines, chartHeatmap            string
	chartGrouped, chartStacked, chartPercent, chartCompare                   string
	keyLock                                                                  string
	keyAnalyses, keyAnDim, keyAnBy, keyAnAdjust, anNoMulti, anTitle, anRules string
	anLift, anProgress, anPeople, anWithheld, anHeat, anIf, anThen           string
	anSupport, anConfidence, anLiftCol, anAgainst, anAdjusted, anAxis        string
	anInterval                                                               string
	anSegments, anClassify, keyAnK, keyAnSlice, keyAnTarget, anAuto          string
	anSilhouette, anChosen, anShare, anTopOf, anOverUnder, anSegNote         string
	anTarget, anTargetHelp, anNoTarget, anHoldout, anTree, anLogistic        string
	anAccuracy, anMajority, anBaseRate, anImportance, anLeaves, anRate       string
	anRule, anFeature, anTreeImp, anLogImp                                   string
	chartPrefix, sliceBy, measurePrefix, keyPrevMeasure, trend               string
	keyExport, keyExFocus, keyExWrite, exTitle, exWhat, exNumbers, exBrand   string
	exViews, exName, exShown, exNoResult, exNone, exWriting, exProgress      string
	exWritten, exSize, exExists, exNoName, exFormat, exCancelled             string
}

var textsZH = texts{
	dimensions: "维度", measure: "指标", filters: "筛选", none: "无", by: "按",
	withheld: "已隐藏", rows: "行", query: "查询", loading: "查询中…", summarising: "正在汇总数据以加快切片…", summaryFailed: "未能汇总数据，切片照常读取全部记录", noRows: "没有符合条件的数据",
	top:   "前",
	keyUp: "上移", keyDown: "下移", keyFocus: "下一面板", keyFocusBack: "上一面板", keySecond: "设为第二维度",
	keyMeasure: "下一个指标", keyFilter: "筛选此行", keyClear: "清除筛选", keySort: "排序",
	keyTop: "前10", keyCancel: "取消/返回", keyHelp: "帮助", keyQuit: "退出",
	cancelled: "已取消", tooSmall: "终端太小：至少需要 60×16",
	keyAck: "确认并打开", gateTitle: "数据许可 · 使用前请确认",
	gateLicence: "许可编号", gatePurpose: "用途", gateLicensee: "被许可方", gateLicensor: "许可方",
	gatePeriod: "期限", gateTZ: "北京时间", gateDaysLeft: "剩余 %d 天", gateRegion: "地域", gateK: "隐私",
	gatePeople: "授权人员", gateDeletion: "删除", gateDeletionText: "期满后 %d 天内删除全部数据及衍生品（最迟 %s）", gateYou: "当前使用人",
	gateTerms: "仅限上述用途使用；不得识别任何个人；不得复制或外传数据；所有操作均记入使用日志。",
	gateAck:   "按 Enter 确认以上条款并打开数据，按 q 退出。",
	keyLog:    "使用日志", keyRefresh: "刷新", logTitle: "使用日志", logNone: "没有使用日志",
	keyCompliance: "合规", keyDelete: "删除本许可数据", compTitle: "合规 · 本机所有许可",
	compHeader: "许可编号           状态               剩余天数  删除期限  距期限  衍生品  日志",
	compLogOK:  "正常", compLogBad: "异常",
	compConfirm: "将销毁许可 %s 的密钥并删除全部数据包和导出文件，不可撤销。输入许可编号确认（Esc 取消）：",
	compNoMatch: "输入与许可编号 %s 不符：未删除任何内容", compDeleting: "正在删除并生成数据删除确认书…",
	compDone: "许可 %s 已删除；数据删除确认书：%s。按 q 退出。",
	logOK:    "已验证：%d 条记录，%d 个检查点", logBad: "验证失败（%d 个问题）：%s", logTorn: "最后一条记录写入中断",
	orderAuto: "自动", orderValueDesc: "值↓", orderValueAsc: "值↑", orderLabel: "标签",
	nobody: "无人", keyChart: "切换图表",
	lockTitle: "屏幕已锁定", lockWatermark: "许可 · 被许可方 · 使用人", lockPrompt: "输入该许可的口令以解锁：",
	lockChecking: "正在核对口令…", lockWrong: "口令不正确，请重试",
	keyUndo: "撤销", keyRedo: "重做",
	keySaveView: "保存视图", keyViews: "已存视图", keyOpenView: "打开视图", keyRemoveView: "删除视图",
	viewsTitle: "保存的视图", viewName: "视图名称（回车保存，Esc 取消）：", viewsNone: "还没有保存的视图：在分析界面按 S 保存",
	viewSaved: "已保存视图「%s」", viewStale: "视图「%s」用到的 %q 不在当前数据中",
	keyDrill: "下钻", keyCompare: "按此维度对比", keyPalette: "命令面板", keyPick: "选择筛选值",
	compareLegend: "提升 = %[2]s ÷ %[1]s − 1", everyone: "全部",
	diff: "差值", lift: "提升", chartBars: "条形图", chartColumns: "柱状图", chartLines: "折线图",
	chartHeatmap: "热力图", chartGrouped: "分组条形图", chartStacked: "堆叠条形图", chartPercent: "百分比堆叠", chartCompare: "对比",
	keyPrevMeasure: "上一个指标", trend: "趋势", keyLock: "立即锁屏",
	keyAnalyses: "分析", keyAnDim: "换维度", keyAnBy: "按维度细分", keyAnAdjust: "分层调整",
	anNoMulti: "数据中没有多值维度，无法计算关联规则", anTitle: "分析", anRules: "关联规则", anLift: "活动提升",
	anProgress: "计算中… %d / %d", anPeople: "人数", anWithheld: "%d / %d 对被隐私保护隐藏", anHeat: "提升度热力图（行：如果，列：那么）",
	anIf: "如果", anThen: "那么", anSupport: "支持度", anConfidence: "置信度", anLiftCol: "提升度",
	anAgainst: "对比", anAdjusted: "分层调整：", anAxis: "横轴", anInterval: "置信区间",
	anSegments: "细分", anClassify: "分类", keyAnK: "群数", keyAnSlice: "按分群切片", keyAnTarget: "换目标", anAuto: "自动",
	anSilhouette: "轮廓系数", anChosen: "选用", anShare: "占比", anTopOf: "常见", anOverUnder: "↑ 高于总体 · ↓ 低于总体（指数 100 = 与总体占比相同）",
	anSegNote: "分群已成为可切片、可筛选的维度 · 群数：%s",
	anTarget:  "目标：", anTargetHelp: "t 换目标：是/否字段，或有序维度的上半部分取值", anNoTarget: "数据中没有可预测的目标（是/否字段或有序维度）",
	anHoldout: "留出集", anTree: "决策树", anLogistic: "逻辑回归", anAccuracy: "准确率", anMajority: "多数类准确率", anBaseRate: "留出集中符合目标的比例",
	anImportance: "特征重要性", anTreeImp: "决策树：基尼下降占比", anLogImp: "逻辑回归：留出集 AUC 损失",
	anLeaves: "决策树的叶子（规则）：深度 %d，%d 个叶子", anRate: "比例", anRule: "规则", anFeature: "特征",
	chartPrefix: "图表：", sliceBy: "按维度切片：", measurePrefix: "指标：",
	keyExport: "导出", keyExFocus: "切换内容/文件名", keyExWrite: "写入",
	exTitle: "导出", exWhat: "导出内容", exNumbers: "当前视图的数字", exBrand: "品牌营销效果报告",
	exViews: "已存视图报告（%d 个视图）", exName: "文件名", exShown: "当前视图：",
	exNoResult: "还没有显示结果：没有可导出的数字", exNone: "此处不能导出",
	exWriting: "正在写入…", exProgress: "正在生成报告… %d / %d",
	exWritten: "已写入，并已记入使用日志", exSize: "大小 %s · sha256 %s…",
	exExists: "%s 已存在：请换一个文件名", exNoName: "请输入文件名", exFormat: "文件名须以 %s 结尾",
	exCancelled: "报告已取消",
}

var textsEN = texts{
	dimensions: "Dimensions", measure: "Measure", filters: "Filters", none: "none", by: "by",
	withheld: "withheld", rows: "rows", query: "query", loading: "querying…", summarising: "summarising the records for faster slices…", summaryFailed: "no summary of the records; slices read every record", noRows: "no data matches",
	top:   "top",
	keyUp: "up", keyDown: "down", keyFocus: "next pane", keyFocusBack: "previous pane", keySecond: "pin as 2nd dimension",
	keyMeasure: "next measure", keyFilter: "filter to row", keyClear: "clear filters", keySort: "sort",
	keyTop: "top 10", keyCancel: "cancel query / back up", keyHelp: "help", keyQuit: "quit",
	keyAck: "acknowledge and open", gateTitle: "Data licence · acknowledge before use",
	gateLicence: "Licence", gatePurpose: "Purpose", gateLicensee: "Licensee", gateLicensor: "Licensor",
	gatePeriod: "Period", gateTZ: "China Standard Time", gateDaysLeft: "%d days left", gateRegion: "Region", gateK: "Privacy",
	gatePeople: "Authorised", gateDeletion: "Deletion", gateDeletionText: "delete all data and derivatives within %d days of the end (by the end of %s)", gateYou: "You",
	gateTerms: "Use only for the purpose above; identify no one; copy or pass on no data; every action is recorded in the usage log.",
	gateAck:   "Press Enter to acknowledge these terms and open the data, q to quit.",
	keyLog:    "usage log", keyRefresh: "refresh", logTitle: "Usage log", logNone: "no usage log",
	keyCompliance: "compliance", keyDelete: "delete this licence's data", compTitle: "Compliance · every licence on this workstation",
	compHeader: "Licence            State              Days left  Delete by  Days  Deriv.  Log",
	compLogOK:  "ok", compLogBad: "PROBLEM",
	compConfirm: "This destroys the keys of licence %s and deletes every package and export; it cannot be undone. Type the licence id to confirm (Esc cancels):",
	compNoMatch: "that is not licence id %s: nothing was deleted", compDeleting: "deleting and writing the deletion certificate…",
	compDone: "licence %s deleted; certificate: %s. Press q to quit.",
	logOK:    "verified: %d records, %d checkpoints", logBad: "does not verify (%d problems): %s", logTorn: "the last record was cut short",
	cancelled: "cancelled", tooSmall: "terminal too small: needs at least 60×16",
	orderAuto: "auto", orderValueDesc: "value↓", orderValueAsc: "value↑", orderLabel: "label",
	nobody: "nobody", keyChart: "next chart",
	lockTitle: "screen locked", lockWatermark: "licence · licensee · analyst", lockPrompt: "Enter the licence's passphrase to unlock:",
	lockChecking: "checking the passphrase…", lockWrong: "wrong passphrase, try again",
	keyUndo: "undo", keyRedo: "redo",
	keySaveView: "save view", keyViews: "saved views", keyOpenView: "open view", keyRemoveView: "remove view",
	viewsTitle: "saved views", viewName: "Name of the view (enter saves, esc gives up):", viewsNone: "no saved views yet: press S in the workbench to save one",
	viewSaved: "saved the view %q", viewStale: "the view %q uses %q, which this data does not have",
	keyDrill: "drill down", keyCompare: "compare this dimension's segments", keyPalette: "command palette", keyPick: "pick filter values",
	compareLegend: "lift = %[2]s ÷ %[1]s − 1", everyone: "everyone",
	diff: "difference", lift: "lift", chartBars: "bars", chartColumns: "columns", chartLines: "lines",
	chartHeatmap: "heatmap", chartGrouped: "grouped bars", chartStacked: "stacked bars", chartPercent: "100% stacked", chartCompare: "comparison",
	keyPrevMeasure: "previous measure", trend: "trend", keyLock: "lock now",
	keyAnalyses: "analyses", keyAnDim: "next dimension", keyAnBy: "break down by", keyAnAdjust: "adjust within",
	anNoMulti: "the data has no multi-valued dimension to find rules in", anTitle: "Analyses", anRules: "Association rules", anLift: "Campaign lift",
	anProgress: "working… %d of %d", anPeople: "people", anWithheld: "%d of %d pairs withheld by the privacy guard", anHeat: "lift heatmap (rows: if, columns: then)",
	anIf: "if", anThen: "then", anSupport: "support", anConfidence: "confidence", anLiftCol: "lift",
	anAgainst: "against", anAdjusted: "adjusted within", anAxis: "axis", anInterval: "interval",
	anSegments: "Segments", anClassify: "Classification", keyAnK: "number of segments", keyAnSlice: "slice by the segments", keyAnTarget: "next target", anAuto: "auto",
	anSilhouette: "silhouette", anChosen: "chosen", anShare: "share", anTopOf: "top ", anOverUnder: "↑ over-indexes · ↓ under-indexes (index 100: the population's share)",
	anSegNote: "the segments are now a dimension to slice and filter by · segments: %s",
	anTarget:  "target: ", anTargetHelp: "t: next target (yes/no fields; the upper half of an ordered dimension's values)", anNoTarget: "the data has no target to predict (a yes/no field or an ordered dimension)",
	anHoldout: "holdout", anTree: "tree", anLogistic: "logistic", anAccuracy: "accuracy", anMajority: "majority class", anBaseRate: "base rate in the holdout",
	anImportance: "feature importance", anTreeImp: "tree: share of Gini decrease", anLogImp: "logistic: holdout AUC lost",
	anLeaves: "the tree's leaves as rules: depth %d, %d leaves", anRate: "rate", anRule: "rule", anFeature: "feature",
	chartPrefix: "chart: ", sliceBy: "slice by ", measurePrefix: "measure: ",
	keyExport: "export", keyExFocus: "choice/name", keyExWrite: "write",
	exTitle: "Export", exWhat: "What to write", exNumbers: "This view's numbers", exBrand: "Brand marketing effect report",
	exViews: "Report of the saved views (%d)", exName: "File name", exShown: "this view: ",
	exNoResult: "no result is shown yet: there are no numbers to export", exNone: "exports are not available here",
	exWriting: "writing…", exProgress: "writing the report… %d of %d",
	exWritten: "written and recorded in the usage log", exSize: "size %s · sha256 %s…",
	exExists: "%s exists: choose another name", exNoName: "a file needs a name", exFormat: "the file name must end in %s",
	exCancelled: "the report was cancelled",
}

func textsFor(lang string) texts {
	if lang == "zh" {
		return textsZH
	}
	return textsEN
}
