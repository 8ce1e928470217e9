package contract

import "strings"

// Geo says what a geographic column holds; an inventory field declares it
// with "geo".
type Geo string

// Geo kinds.
const (
	// Province: names of mainland China's 31 province-level divisions,
	// short (广东) or full (广东省) form, or in pinyin or English
	// (Guangdong, Inner Mongolia), any case.
	Province Geo = "province"
	// ProvinceCode: their GB/T 2260 six-digit codes (440000).
	ProvinceCode Geo = "province_code"
	// Region: areas above province level (全国, 华东, South China …) or
	// province names: a region column at province level is still at or
	// above province level.
	Region Geo = "region"
)

// ValidGeo reports whether g is a known kind.
func ValidGeo(g Geo) bool { return g == Province || g == ProvinceCode || g == Region }

// CheckPlace classifies one value of a column of kind g: "" when it is fine
// (a missing value, "", is fine), else OutsideMainland, BelowProvince or
// NotAPlace. Spaces around the value are ignored, and Latin letters are
// compared without regard to case.
//
// A value is judged by what it is before what the column accepts: 香港 is
// outside mainland China and 深圳市 or 440300 below province level in any
// column, so that the report says what is wrong. Otherwise a value that is
// not of the column's kind is NotAPlace, even a place at or above province
// level (440000 in a Province column, 华东 in one): the declaration says
// what the column holds, and a column that holds something else was most
// likely declared geographic by mistake.
//
// Places below province level are recognised by their form (a name ending
// in 市, 区, 县, 州, 盟, 旗, 镇, 乡 or 街道, or starting with a province's
// name, as 广东深圳 does) and, without a suffix, from a list of large
// cities. Any other name is NotAPlace, which refuses the data just the
// same.
func CheckPlace(g Geo, v string) Rule {
	k := placeKey(v)
	if k == "" {
		return ""
	}
	if isOutside(k) {
		return OutsideMainland
	}
	if len(k) == 6 && allDigits(k) {
		return checkCode(g, k)
	}
	if provinceNames[k] {
		if g == ProvinceCode {
			return NotAPlace
		}
		return ""
	}
	if regionNames[k] {
		if g == Region {
			return ""
		}
		return NotAPlace
	}
	if isBelowProvince(k) {
		return BelowProvince
	}
	return NotAPlace
}

// placeKey is the form places are looked up in: trimmed, lower case, with
// single spaces, ASCII parentheses and commas as spaces.
func placeKey(v string) string {
	v = strings.NewReplacer("（", "(", "）", ")", ",", " ", "，", " ").Replace(strings.ToLower(v))
	return strings.Join(strings.Fields(v), " ")
}

// checkCode classifies a six-digit GB/T 2260 code.
func checkCode(g Geo, code string) Rule {
	prefix := code[:2]
	switch {
	case outsideCodes[prefix]:
		return OutsideMainland
	case !provinceCodes[prefix]:
		return NotAPlace
	case code[2:] != "0000":
		return BelowProvince
	case g == ProvinceCode:
		return ""
	}
	return NotAPlace
}

// isOutside reports whether k names a place outside mainland China: Hong
// Kong, Macao or Taiwan (or a place in them, 香港九龙), or another country.
func isOutside(k string) bool {
	if outside[k] {
		return true
	}
	k = strings.TrimPrefix(strings.TrimPrefix(k, "中国"), "中國")
	for _, p := range outsidePrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// isBelowProvince reports whether k looks like a place below province
// level. It is asked only of values that are not province or region names.
func isBelowProvince(k string) bool {
	if bigCities[k] {
		return true
	}
	for _, s := range belowSuffixes {
		if len(k) > len(s) && strings.HasSuffix(k, s) {
			return true
		}
	}
	for _, p := range provinces {
		if strings.HasPrefix(k, p.short) && len(k) > len(p.short) {
			return true
		}
	}
	return false
}

// province is one mainland province-level division: its GB/T 2260 code
// prefix, short and full names, its kind (for the English forms) and its
// pinyin or English names.
type province struct {
	code, short, full string
	kind              byte // 'p' province, 'm' municipality, 'a' autonomous region
	en                []string
}

var provinces = []province{
	{"11", "北京", "北京市", 'm', []string{"beijing", "peking"}},
	{"12", "天津", "天津市", 'm', []string{"tianjin"}},
	{"13", "河北", "河北省", 'p', []string{"hebei"}},
	{"14", "山西", "山西省", 'p', []string{"shanxi"}},
	{"15", "内蒙古", "内蒙古自治区", 'a', []string{"inner mongolia", "nei mongol", "neimenggu", "nei menggu"}},
	{"21", "辽宁", "辽宁省", 'p', []string{"liaoning"}},
	{"22", "吉林", "吉林省", 'p', []string{"jilin"}},
	{"23", "黑龙江", "黑龙江省", 'p', []string{"heilongjiang"}},
	{"31", "上海", "上海市", 'm', []string{"shanghai"}},
	{"32", "江苏", "江苏省", 'p', []string{"jiangsu"}},
	{"33", "浙江", "浙江省", 'p', []string{"zhejiang"}},
	{"34", "安徽", "安徽省", 'p', []string{"anhui"}},
	{"35", "福建", "福建省", 'p', []string{"fujian"}},
	{"36", "江西", "江西省", 'p', []string{"jiangxi"}},
	{"37", "山东", "山东省", 'p', []string{"shandong"}},
	{"41", "河南", "河南省", 'p', []string{"henan"}},
	{"42", "湖北", "湖北省", 'p', []string{"hubei"}},
	{"43", "湖南", "湖南省", 'p', []string{"hunan"}},
	{"44", "广东", "广东省", 'p', []string{"guangdong"}},
	{"45", "广西", "广西壮族自治区", 'a', []string{"guangxi", "guangxi zhuang"}},
	{"46", "海南", "海南省", 'p', []string{"hainan"}},
	{"50", "重庆", "重庆市", 'm', []string{"chongqing"}},
	{"51", "四川", "四川省", 'p', []string{"sichuan"}},
	{"52", "贵州", "贵州省", 'p', []string{"guizhou"}},
	{"53", "云南", "云南省", 'p', []string{"yunnan"}},
	{"54", "西藏", "西藏自治区", 'a', []string{"tibet", "xizang"}},
	{"61", "陕西", "陕西省", 'p', []string{"shaanxi"}},
	{"62", "甘肃", "甘肃省", 'p', []string{"gansu"}},
	{"63", "青海", "青海省", 'p', []string{"qinghai"}},
	{"64", "宁夏", "宁夏回族自治区", 'a', []string{"ningxia", "ningxia hui"}},
	{"65", "新疆", "新疆维吾尔自治区", 'a', []string{"xinjiang", "xinjiang uygur", "xinjiang uyghur"}},
}

// englishSuffixes are the words that may follow a division's English name
// by its kind: Guangdong Province, Beijing Municipality, Tibet Autonomous
// Region. ("Beijing City" is the municipality itself, province-level.)
var englishSuffixes = map[byte][]string{
	'p': {"province", "sheng"},
	'm': {"municipality", "city", "shi"},
	'a': {"autonomous region", "zizhiqu"},
}

var (
	provinceNames = map[string]bool{} // every accepted form, keyed by placeKey
	provinceCodes = map[string]bool{} // code prefixes: "44"
	regionNames   = map[string]bool{}
	outside       = map[string]bool{}
	bigCities     = map[string]bool{}
)

// outsideCodes are the GB/T 2260 prefixes of Taiwan (71), Hong Kong (81)
// and Macao (82).
var outsideCodes = map[string]bool{"71": true, "81": true, "82": true}

// outsidePrefixes catch places in Hong Kong, Macao and Taiwan written with
// the area first (香港九龙, 台湾省台北市), after an optional 中国.
var outsidePrefixes = []string{"香港", "澳门", "澳門", "台湾", "台灣", "臺灣", "hong kong", "macao", "macau", "taiwan"}

// belowSuffixes end the names of divisions below province level: prefecture
// cities and county-level cities (市), districts and prefectures (区, 地区,
// 新区), counties (县), autonomous prefectures (州), leagues and banners of
// Inner Mongolia (盟, 旗), towns, townships and subdistricts.
var belowSuffixes = []string{"市", "区", "县", "州", "盟", "旗", "镇", "乡", "街道",
	" city", " district", " county", " prefecture"}

func init() {
	for _, p := range provinces {
		provinceCodes[p.code] = true
		provinceNames[p.short], provinceNames[p.full] = true, true
		for _, e := range p.en {
			provinceNames[e] = true
			for _, s := range englishSuffixes[p.kind] {
				provinceNames[e+" "+s] = true
			}
		}
	}
	for _, r := range []string{"全国", "全国(中国大陆)", "中国", "中国大陆", "中国内地", "内地",
		"north china", "northeast", "northeast china", "east china", "central china", "south china",
		"southwest", "southwest china", "northwest", "northwest china",
		"china", "mainland china", "chinese mainland", "china mainland", "nationwide"} {
		regionNames[r] = true
	}
	// The seven customary regions, also as 华东区 and 华东地区: sales
	// regions are often written so, and must not read as districts (区).
	for _, r := range []string{"华北", "东北", "华东", "华中", "华南", "西南", "西北"} {
		regionNames[r], regionNames[r+"区"], regionNames[r+"地区"] = true, true, true
	}
	for _, o := range []string{
		// Hong Kong, Macao and Taiwan, beyond what outsidePrefixes catch.
		"港澳台", "hk", "hksar", "macao sar", "macau sar", "taipei", "kaohsiung", "taichung", "kowloon",
		"台北", "台北市", "新北", "新北市", "台中", "台中市", "台南", "台南市", "高雄", "高雄市", "九龙", "新界",
		// Abroad.
		"海外", "国外", "境外", "overseas", "abroad", "foreign", "欧盟",
		"美国", "日本", "韩国", "朝鲜", "新加坡", "马来西亚", "泰国", "越南", "印度尼西亚", "菲律宾", "印度",
		"俄罗斯", "蒙古国", "英国", "法国", "德国", "意大利", "西班牙", "荷兰", "瑞士", "加拿大", "澳大利亚",
		"新西兰", "巴西", "墨西哥", "阿联酋", "沙特阿拉伯", "南非",
		"usa", "us", "united states", "america", "japan", "korea", "south korea", "singapore", "malaysia",
		"thailand", "vietnam", "indonesia", "philippines", "india", "russia", "mongolia", "uk",
		"united kingdom", "france", "germany", "italy", "spain", "netherlands", "switzerland", "canada",
		"australia", "new zealand", "brazil", "mexico", "uae", "saudi arabia", "south africa",
	} {
		outside[o] = true
	}
	for _, c := range []string{
		"深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州", "西安", "青岛", "厦门", "大连", "宁波",
		"长沙", "郑州", "济南", "沈阳", "哈尔滨", "长春", "福州", "合肥", "南昌", "昆明", "贵阳", "南宁",
		"海口", "三亚", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特", "包头", "太原", "石家庄",
		"唐山", "保定", "无锡", "常州", "南通", "徐州", "扬州", "昆山", "佛山", "东莞", "珠海", "中山",
		"惠州", "汕头", "温州", "绍兴", "嘉兴", "金华", "台州", "义乌", "烟台", "潍坊", "临沂", "洛阳",
		"襄阳", "宜昌", "芜湖", "泉州", "桂林", "遵义", "绵阳",
		"shenzhen", "guangzhou", "hangzhou", "chengdu", "wuhan", "nanjing", "suzhou", "xi'an", "xian",
		"qingdao", "xiamen", "dalian", "ningbo", "changsha", "zhengzhou", "jinan", "shenyang", "harbin",
		"dongguan", "foshan", "wuxi", "kunming", "hefei", "fuzhou",
	} {
		bigCities[c] = true
	}
}
