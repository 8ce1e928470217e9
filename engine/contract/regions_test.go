package contract

import "testing"

func TestValidGeo(t *testing.T) {
	for _, g := range []Geo{Province, ProvinceCode, Region} {
		if !ValidGeo(g) {
			t.Errorf("ValidGeo(%q) = false", g)
		}
	}
	for _, g := range []Geo{"", "city", "Province"} {
		if ValidGeo(g) {
			t.Errorf("ValidGeo(%q) = true", g)
		}
	}
}

func TestCheckPlace(t *testing.T) {
	cases := []struct {
		geo  Geo
		in   string
		want Rule
	}{
		// Province names.
		{Province, "广东", ""},
		{Province, "广东省", ""},
		{Province, "Guangdong", ""},
		{Province, "GUANGDONG province", ""},
		{Province, " 北京市 ", ""},
		{Province, "Beijing Municipality", ""},
		{Province, "内蒙古自治区", ""},
		{Province, "Inner Mongolia", ""},
		{Province, "Nei Mongol", ""},
		{Province, "广西壮族自治区", ""},
		{Province, "Guangxi Zhuang Autonomous Region", ""},
		{Province, "Tibet", ""},
		{Province, "Xizang", ""},
		{Province, "宁夏回族自治区", ""},
		{Province, "新疆维吾尔自治区", ""},
		{Province, "Shaanxi", ""},
		{Province, "Shanxi", ""},
		{Province, "吉林", ""},
		{Province, "", ""},
		{Province, "  ", ""},
		{Province, "深圳市", BelowProvince},
		{Province, "深圳", BelowProvince},
		{Province, "Shenzhen", BelowProvince},
		{Province, "南山区", BelowProvince},
		{Province, "昆山市", BelowProvince},
		{Province, "吉林市", BelowProvince},
		{Province, "延边朝鲜族自治州", BelowProvince},
		{Province, "阿拉善盟", BelowProvince},
		{Province, "额济纳旗", BelowProvince},
		{Province, "广东深圳", BelowProvince},
		{Province, "北京市朝阳区", BelowProvince},
		{Province, "440300", BelowProvince},
		{Province, "香港", OutsideMainland},
		{Province, "香港特别行政区", OutsideMainland},
		{Province, "澳門", OutsideMainland},
		{Province, "台湾省", OutsideMainland},
		{Province, "臺灣", OutsideMainland},
		{Province, "中国台湾", OutsideMainland},
		{Province, "台北市", OutsideMainland},
		{Province, "Hong Kong", OutsideMainland},
		{Province, "Hong Kong, China", OutsideMainland},
		{Province, "Macao SAR", OutsideMainland},
		{Province, "日本", OutsideMainland},
		{Province, "United States", OutsideMainland},
		{Province, "810000", OutsideMainland},
		{Province, "Mars", NotAPlace},
		{Province, "华东", NotAPlace},
		{Province, "440000", NotAPlace},
		{Province, "iPhone", NotAPlace},
		// Province codes.
		{ProvinceCode, "440000", ""},
		{ProvinceCode, "110000", ""},
		{ProvinceCode, "650000", ""},
		{ProvinceCode, " 440000", ""},
		{ProvinceCode, "440300", BelowProvince},
		{ProvinceCode, "440305", BelowProvince},
		{ProvinceCode, "810000", OutsideMainland},
		{ProvinceCode, "820000", OutsideMainland},
		{ProvinceCode, "710000", OutsideMainland},
		{ProvinceCode, "999999", NotAPlace},
		{ProvinceCode, "000000", NotAPlace},
		{ProvinceCode, "160000", NotAPlace},
		{ProvinceCode, "44000", NotAPlace},
		{ProvinceCode, "4400000", NotAPlace},
		{ProvinceCode, "广东", NotAPlace},
		{ProvinceCode, "深圳市", BelowProvince},
		{ProvinceCode, "香港", OutsideMainland},
		{ProvinceCode, "", ""},
		// Regions.
		{Region, "全国", ""},
		{Region, "全国（中国大陆）", ""},
		{Region, "中国大陆", ""},
		{Region, "华东", ""},
		{Region, "华东区", ""},
		{Region, "西北地区", ""},
		{Region, "South China", ""},
		{Region, "northeast", ""},
		{Region, "Mainland China", ""},
		{Region, "广东", ""},
		{Region, "Guangdong", ""},
		{Region, "深圳", BelowProvince},
		{Region, "浦东新区", BelowProvince},
		{Region, "Hong Kong", OutsideMainland},
		{Region, "海外", OutsideMainland},
		{Region, "港澳台", OutsideMainland},
		{Region, "Mars", NotAPlace},
		{Region, "440000", NotAPlace},
		{Region, "", ""},
	}
	for _, c := range cases {
		t.Run(string(c.geo)+"/"+c.in, func(t *testing.T) {
			if got := CheckPlace(c.geo, c.in); got != c.want {
				t.Errorf("CheckPlace(%s, %q) = %q, want %q", c.geo, c.in, got, c.want)
			}
		})
	}
}

// Every division is accepted in all its forms, and only its own code.
func TestCheckPlaceAllProvinces(t *testing.T) {
	if len(provinces) != 31 {
		t.Fatalf("%d provinces, want 31", len(provinces))
	}
	for _, p := range provinces {
		for _, name := range append([]string{p.short, p.full}, p.en...) {
			for _, g := range []Geo{Province, Region} {
				if r := CheckPlace(g, name); r != "" {
					t.Errorf("CheckPlace(%s, %q) = %q", g, name, r)
				}
			}
		}
		if r := CheckPlace(ProvinceCode, p.code+"0000"); r != "" {
			t.Errorf("CheckPlace(code, %s0000) = %q", p.code, r)
		}
		if r := CheckPlace(ProvinceCode, p.code+"0100"); r != BelowProvince {
			t.Errorf("CheckPlace(code, %s0100) = %q", p.code, r)
		}
	}
}
