/* County-level divisions of Hubei province (GB/T 2260, 2020 edition); see region.h. */
#include "common/region/region.h"

#include <stdio.h>
#include <string.h>

typedef struct county_entry {
	const char *code;
	const char *name;
} county_entry;

static const county_entry counties[] = {
    {"420102", "江岸区"},           {"420103", "江汉区"},   {"420104", "硚口区"},
    {"420105", "汉阳区"},           {"420106", "武昌区"},   {"420107", "青山区"},
    {"420111", "洪山区"},           {"420112", "东西湖区"}, {"420113", "汉南区"},
    {"420114", "蔡甸区"},           {"420115", "江夏区"},   {"420116", "黄陂区"},
    {"420117", "新洲区"},           {"420202", "黄石港区"}, {"420203", "西塞山区"},
    {"420204", "下陆区"},           {"420205", "铁山区"},   {"420222", "阳新县"},
    {"420281", "大冶市"},           {"420302", "茅箭区"},   {"420303", "张湾区"},
    {"420304", "郧阳区"},           {"420322", "郧西县"},   {"420323", "竹山县"},
    {"420324", "竹溪县"},           {"420325", "房县"},     {"420381", "丹江口市"},
    {"420502", "西陵区"},           {"420503", "伍家岗区"}, {"420504", "点军区"},
    {"420505", "猇亭区"},           {"420506", "夷陵区"},   {"420525", "远安县"},
    {"420526", "兴山县"},           {"420527", "秭归县"},   {"420528", "长阳土家族自治县"},
    {"420529", "五峰土家族自治县"}, {"420581", "宜都市"},   {"420582", "当阳市"},
    {"420583", "枝江市"},           {"420602", "襄城区"},   {"420606", "樊城区"},
    {"420607", "襄州区"},           {"420624", "南漳县"},   {"420625", "谷城县"},
    {"420626", "保康县"},           {"420682", "老河口市"}, {"420683", "枣阳市"},
    {"420684", "宜城市"},           {"420702", "梁子湖区"}, {"420703", "华容区"},
    {"420704", "鄂城区"},           {"420802", "东宝区"},   {"420804", "掇刀区"},
    {"420822", "沙洋县"},           {"420881", "钟祥市"},   {"420882", "京山市"},
    {"420902", "孝南区"},           {"420921", "孝昌县"},   {"420922", "大悟县"},
    {"420923", "云梦县"},           {"420981", "应城市"},   {"420982", "安陆市"},
    {"420984", "汉川市"},           {"421002", "沙市区"},   {"421003", "荆州区"},
    {"421022", "公安县"},           {"421024", "江陵县"},   {"421081", "石首市"},
    {"421083", "洪湖市"},           {"421087", "松滋市"},   {"421088", "监利市"},
    {"421102", "黄州区"},           {"421121", "团风县"},   {"421122", "红安县"},
    {"421123", "罗田县"},           {"421124", "英山县"},   {"421125", "浠水县"},
    {"421126", "蕲春县"},           {"421127", "黄梅县"},   {"421181", "麻城市"},
    {"421182", "武穴市"},           {"421202", "咸安区"},   {"421221", "嘉鱼县"},
    {"421222", "通城县"},           {"421223", "崇阳县"},   {"421224", "通山县"},
    {"421281", "赤壁市"},           {"421303", "曾都区"},   {"421321", "随县"},
    {"421381", "广水市"},           {"422801", "恩施市"},   {"422802", "利川市"},
    {"422822", "建始县"},           {"422823", "巴东县"},   {"422825", "宣恩县"},
    {"422826", "咸丰县"},           {"422827", "来凤县"},   {"422828", "鹤峰县"},
    {"429004", "仙桃市"},           {"429005", "潜江市"},   {"429006", "天门市"},
    {"429021", "神农架林区"},
};

#define NCOUNTIES ((int)(sizeof(counties) / sizeof(counties[0])))

const char *region_county_name(const char *code)
{
	int i;

	for (i = 0; code != NULL && i < NCOUNTIES; i++)
		if (strcmp(counties[i].code, code) == 0)
			return counties[i].name;
	return NULL;
}

int region_check_county(const char *code, hc_err *err)
{
	if (region_county_name(code) == NULL)
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "not a county-level division of Hubei (GB/T 2260)");
	return 0;
}

void region_city_of(const char *county, char out[7])
{
	snprintf(out, 7, "%.4s00", county);
}

int region_county_count(void)
{
	return NCOUNTIES;
}

const char *region_county_code(int i)
{
	return i >= 0 && i < NCOUNTIES ? counties[i].code : NULL;
}

int region_is_city(const char *code)
{
	int i;

	if (code == NULL || strlen(code) != 6 || strcmp(code + 4, "00") != 0)
		return 0;
	for (i = 0; i < NCOUNTIES; i++)
		if (strncmp(counties[i].code, code, 4) == 0)
			return 1;
	return 0;
}

int region_within(const char *code, const char *county)
{
	char city[7];

	if (code == NULL || county == NULL)
		return 0;
	if (strcmp(code, county) == 0)
		return 1;
	region_city_of(county, city);
	return region_is_city(code) && strcmp(code, city) == 0;
}

int region_check_residence(const char *code, hc_err *err)
{
	static const char *const provinces[] = {
	    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
	    "35", "36", "37", "41", "43", "44", "45", "46", "50", "51", "52", "53",
	    "54", "61", "62", "63", "64", "65", "71", "81", "82", NULL};
	size_t i;

	if (code == NULL || strlen(code) != 6 || strncmp(code, "42", 2) == 0)
		return region_check_county(code, err);
	for (i = 0; i < 6; i++)
		if (code[i] < '0' || code[i] > '9')
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "must be a 6-digit GB/T 2260 code");
	for (i = 0; provinces[i] != NULL && strncmp(provinces[i], code, 2) != 0; i++)
		;
	if (provinces[i] == NULL || strcmp(code + 4, "00") == 0)
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "%.6s is not a county-level GB/T 2260 code", code);
	return 0;
}
