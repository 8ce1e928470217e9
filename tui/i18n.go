package tui

// texts are the interface's words in one language. Data labels come from
// the field inventory, which carries both languages.
type texts struct {
	dimensions, measure, filters, none, by, withheld, rows, query            string
	loading, noRows, top                                                     string
	keyUp, keyDown, keyFocus, keyFocusBack, keySecond, keyMeasure, keyFilter string
	keyClear, keySort, keyTop, keyCancel, keyHelp, keyQuit                   string
	cancelled, tooSmall                                                      string
	orderAuto, orderValueDesc, orderValueAsc, orderLabel                     string
}

var textsZH = texts{
	dimensions: "维度", measure: "指标", filters: "筛选", none: "无", by: "按",
	withheld: "已隐藏", rows: "行", query: "查询", loading: "查询中…", noRows: "没有符合条件的数据",
	top:   "前",
	keyUp: "上移", keyDown: "下移", keyFocus: "下一面板", keyFocusBack: "上一面板", keySecond: "固定为第二维度",
	keyMeasure: "切换指标", keyFilter: "筛选到此行", keyClear: "清除筛选", keySort: "排序",
	keyTop: "前10", keyCancel: "取消查询", keyHelp: "帮助", keyQuit: "退出",
	cancelled: "已取消", tooSmall: "终端太小：至少需要 60×16",
	orderAuto: "自动", orderValueDesc: "值↓", orderValueAsc: "值↑", orderLabel: "标签",
}

var textsEN = texts{
	dimensions: "Dimensions", measure: "Measure", filters: "Filters", none: "none", by: "by",
	withheld: "withheld", rows: "rows", query: "query", loading: "querying…", noRows: "no data matches",
	top:   "top",
	keyUp: "up", keyDown: "down", keyFocus: "next pane", keyFocusBack: "previous pane", keySecond: "pin as 2nd dimension",
	keyMeasure: "measure", keyFilter: "filter to row", keyClear: "clear filters", keySort: "sort",
	keyTop: "top 10", keyCancel: "cancel query", keyHelp: "help", keyQuit: "quit",
	cancelled: "cancelled", tooSmall: "terminal too small: needs at least 60×16",
	orderAuto: "auto", orderValueDesc: "value↓", orderValueAsc: "value↑", orderLabel: "label",
}

func textsFor(lang string) texts {
	if lang == "zh" {
		return textsZH
	}
	return textsEN
}
