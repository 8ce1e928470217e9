package contract

import "strings"

// Geo says what a geographic column holds (an inventory field's "geo").
type Geo string

// Geo kinds.
const (
	Province     Geo = "province"      // mainland province-level names
	ProvinceCode Geo = "province_code" // their GB/T 2260 codes
	Region       Geo = "region"        // areas at or above province level
)

// ValidGeo reports whether g is a known kind.
func ValidGeo(g Geo) bool { return g == Province || g == ProvinceCode || g == Region }

// province is one mainland province-level division: GB/T 2260 code
// prefix, short name, full name, English and pinyin names.
type province struct {
	code        string
	short, full string
	en          []string
}

var provinces = []province{
	{"11", "北京", "北京市", []string{"beijing"}},
	{"12", "天津", "天津市", []string{"tianjin"}},
	{"13", "河北", "河北省", []string{"hebei"}},
	{"14", "山西", "山西省", []string{"shanxi"}},
	{"15", "内蒙古", "内蒙古自治区", []string{"inner mongolia", "nei mongol", "neimenggu"}},
	{"21", "辽宁", "辽宁省", []string{"liaoning"}},
	{"22", "吉林", "吉林省", []string{"jilin"}},
	{"23", "黑龙江", "黑龙江省", []string{"heilongjiang"}},
	{"31", "上海", "上海市", []string{"shanghai"}},
	{"32", "江苏", "江苏省", []string{"jiangsu"}},
	{"33", "浙江", "浙江省", []string{"zhejiang"}},
	{"34", "安徽", "安徽省", []string{"anhui"}},
	{"35", "福建", "福建省", []string{"fujian"}},
	{"36", "江西", "江西省", []string{"jiangxi"}},
	{"37", "山东", "山东省", []string{"shandong"}},
	{"41", "河南", "河南省", []string{"henan"}},
	{"42", "湖北", "湖北省", []string{"hubei"}},
	{"43", "湖南", "湖南省", []string{"hunan"}},
	{"44", "广东", "广东省", []string{"guangdong"}},
	{"45", "广西", "广西壮族自治区", []string{"guangxi"}},
	{"46", "海南", "海南省", []string{"hainan"}},
	{"50", "重庆", "重庆市", []string{"chongqing"}},
	{"51", "四川", "四川省", []string{"sichuan"}},
	{"52", "贵州", "贵州省", []string{"guizhou"}},
	{"53", "云南", "云南省", []string{"yunnan"}},
	{"54", "西藏", "西藏自治区", []string{"tibet", "xizang"}},
	{"61", "陕西", "陕西省", []string{"shaanxi"}},
	{"62", "甘肃", "甘肃省", []string{"gansu"}},
	{"63", "青海", "青海省", []string{"qinghai"}},
	{"64", "宁夏", "宁夏回族自治区", []string{"ningxia"}},
	{"65", "新疆", "新疆维吾尔自治区", []string{"xinjiang"}},
}

var (
	provinceNames = map[string]bool{}
	provinceCodes = map[string]bool{}
	regionNames   = map[string]bool{}
	outside       = map[string]bool{}
	bigCities     = map[string]bool{}
)

func init() {
	for _, p := range provinces {
		provinceNames[p.short], provinceNames[p.full] = true, true
		for _, e := range p.en {
			provinceNames[e] = true
		}
		provinceCodes[p.code+"0000"] = true
	}
	for _, r := range []string{"全国", "全国（中国大陆）", "中国", "中国大陆", "华北", "东北", "华东", "华中", "华南", "西南", "西北",
		"north china", "northeast", "northeast china", "east china", "central china", "south china", "southwest", "southwest china",
		"northwest", "northwest china", "mainland china", "china"} {
		regionNames[r] = true
	}
	for _, o := range []string{"香港", "香港特别行政区", "香港特區", "澳门", "澳門", "澳门特别行政区", "澳門特別行政區", "台湾", "臺灣", "台湾省", "臺灣省", "台灣",
		"hong kong", "hongkong", "macau", "macao", "taiwan", "710000", "810000", "820000",
		"美国", "日本", "韩国", "新加坡", "英国", "usa", "united states", "japan", "korea", "singapore", "united kingdom", "海外", "overseas"} {
		outside[o] = true
	}
	for _, c := range []string{"深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州", "西安", "青岛", "厦门", "大连", "宁波", "长沙", "郑州",
		"济南", "沈阳", "哈尔滨", "长春", "福州", "合肥", "南昌", "昆明", "贵阳", "南宁", "海口", "三亚", "兰州", "西宁", "银川", "乌鲁木齐",
		"拉萨", "呼和浩特", "太原", "石家庄", "无锡", "佛山", "东莞", "温州", "珠海", "烟台", "常州", "泉州", "昆山", "义乌",
		"shenzhen", "guangzhou", "hangzhou", "chengdu", "wuhan", "nanjing", "suzhou", "xi'an", "xian", "qingdao", "xiamen", "dalian", "ningbo"} {
		bigCities[c] = true
	}
}

// CheckPlace classifies one value of a column of kind g: "" when it is
// fine (a missing value is fine), else OutsideMainland, BelowProvince or
// NotAPlace.
func CheckPlace(g Geo, v string) Rule {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	low := strings.ToLower(v)
	if outside[low] || outside[v] {
		return OutsideMainland
	}
	if g == ProvinceCode {
		if provinceCodes[v] {
			return ""
		}
		if len(v) == 6 && allDigits(v) {
			if provinceCodes[v[:2]+"0000"] {
				return BelowProvince
			}
			if outside[v[:2]+"0000"] {
				return OutsideMainland
			}
		}
		return NotAPlace
	}
	if provinceNames[v] || provinceNames[low] {
		return ""
	}
	if g == Region && (regionNames[v] || regionNames[low]) {
		return ""
	}
	if bigCities[v] || bigCities[low] {
		return BelowProvince
	}
	for _, suffix := range []string{"市", "区", "县", "州", "盟", "旗", "镇", "乡", "街道", " city", " district", " county"} {
		if strings.HasSuffix(low, suffix) && len(low) > len(suffix) {
			return BelowProvince
		}
	}
	return NotAPlace
}
